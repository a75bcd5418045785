# SPDX-License-Identifier: MIT
#
# mkman.awk - write the section 3 man pages of libfutures from the contract
# comments in include/futures.h, so that the header stays the one source of
# the documentation. Run through man/mkman.sh; see that file for usage.
#
# Variables (-v): outdir (where the pages go), exdir (a directory that may
# hold <function>.c: the page's EXAMPLES section), title (the .TH footer,
# e.g. "libfutures 0.1.0").
#
# What it reads, all of it written down in STYLE.md section 2.6:
#   - the file's leading comment: the overview, with its "Global rules"
#     labelled "Errors.", "Threads.", ... and the table of error codes;
#   - "/* ---- <group> */" markers, which group the functions;
#   - the version macros and the types section, copied as code;
#   - for each FUTURES_API declaration, the /** ... */ block above it:
#       name() - summary (it may go on over the next lines, up to a blank)
#       description paragraphs (at least one sentence: the page's
#         DESCRIPTION starts with them; tests/check_man.sh fails a page
#         whose DESCRIPTION only repeats the summary or starts elsewhere)
#       @param: text (continuation lines indented); "COND -> ECODE" in it
#         reads "COND gives ECODE" and becomes the ERRORS entry of a code
#         the Return line names bare ("...; EINVAL; ...")
#       Return: / Ownership: / Threads: / In a task: / Since: fields
#     (several fields may share a line, as in the version functions).
#     In the Return line, "ECODE if/when COND" explains a code (its ERRORS
#     entry is COND, as a sentence), "ECODE for/once/while ..." too
#     ("Returned for ..."; "COND, or when COND2" gives two entries, a
#     final ", or as other()" other()'s entries for the code), "ECODE
#     (note)" and "ECODE, note" add the note to the code's entries (the
#     last, if several), "ECODE, ECODE and ECODE as other()" takes the
#     entries of other()'s page, and a Return line that starts "as
#     other()" takes all of other()'s entries after the page's own. A
#     copied entry that names a parameter this function lacks, or that the
#     page has already, is left out (copy_errs).
#
# The "(tests: ...)" groups that close each promise of the header (the
# test plan, STYLE.md 4.3, checked by tests/check_testplan.sh) are left out
# of the pages: they name tests of the source tree, which a reader of an
# installed page does not have, and the promise reads the same without
# them.
#
# Plain POSIX awk (mawk, gawk, busybox): no gawk extensions.

function trim(s) {
  sub(/^[ \t]+/, "", s)
  sub(/[ \t]+$/, "", s)
  return s
}

# Text that troff must see literally.
function esc(s) {
  gsub(/\\/, "\\e", s)
  gsub(/-/, "\\-", s)
  return s
}

# A line of troff text must not start with a control character.
function safe(s) {
  if (s ~ /^[.']/)
    s = "\\&" s
  return s
}

# The promise without its "(tests: ...)" groups (see the top).
function untested(s) {
  gsub(/[ \t]*\(tests:[^)]*\)/, "", s)
  return s
}

function is_errcode(t) {
  return t ~ /^E[A-Z][A-Z][A-Z]+$/
}

# Font changes for one identifier-like token of the prose.
function decorate(t) {
  if (t ~ /^@/)
    return "\\fI" substr(t, 2) "\\fP"
  if (t ~ /\(\)$/)
    return "\\fB" substr(t, 1, length(t) - 2) "\\fP()"
  if (t ~ /^FUTURES_[A-Z0-9_]+$/ || is_errcode(t) || t == "NULL")
    return "\\fB" t "\\fP"
  return t
}

# Prose with `code`, @param, function(), FUTURES_X, E-codes marked up.
function markup(s,   out, pre, tok, n, i, parts) {
  out = ""
  n = split(s, parts, "`")
  for (i = 1; i <= n; i++) {
    if (i % 2 == 0 && i < n) {
      out = out "\\fB" esc(parts[i]) "\\fP"
      continue
    }
    s = parts[i]
    if (i % 2 == 0)
      s = "`" s # an unmatched backquote stays as it was
    while (match(s, /@?[A-Za-z_][A-Za-z_0-9]*(\(\))?/)) {
      pre = substr(s, 1, RSTART - 1)
      tok = substr(s, RSTART, RLENGTH)
      s = substr(s, RSTART + RLENGTH)
      out = out esc(pre) decorate(tok)
    }
    out = out esc(s)
  }
  return out
}

# Code for an .EX block.
function code(s) {
  gsub(/\\/, "\\e", s)
  return safe(s)
}

function strip_comment_line(s) {
  if (s ~ /^ \* /)
    return substr(s, 4)
  if (s ~ /^ \*$/)
    return ""
  return s
}

# ------------------------------------------------------------ reading

BEGIN {
  state = "code"   # code | filehdr | doc
  group = ""
  nfuncs = 0
  nhdr = 0
  nver = 0
  nitems = 0
  pending = 0      # lines of the last doc comment, not yet claimed
  indecl = 0
  initem = 0
  seen_hdr = 0
}

# The file's overview comment: the first "/*" block after the SPDX line.
state == "code" && !seen_hdr && /^\/\*$/ {
  state = "filehdr"
  next
}
state == "filehdr" {
  if ($0 ~ /^ \*\/$/) {
    state = "code"
    seen_hdr = 1
    next
  }
  hdr[++nhdr] = strip_comment_line($0)
  next
}

# Group markers: /* ------------------------------------------ pool */
state == "code" && /^\/\* -+ [a-z]+ \*\/$/ {
  end_item()
  group = $0
  sub(/^\/\* -+ /, "", group)
  sub(/ \*\/$/, "", group)
  if (group == "version" && nfuncs > 0)
    group = "version functions"
  next
}

# A one-line doc comment: /** text */
state == "code" && /^\/\*\*.*\*\/$/ {
  end_item()
  s = $0
  sub(/^\/\*\* */, "", s)
  sub(/ *\*\/$/, "", s)
  npend = 1
  pend[1] = s
  pending = 1
  if (group == "version")
    ver[++nver] = $0
  next
}

state == "code" && /^\/\*\*$/ {
  end_item()
  state = "doc"
  npend = 0
  next
}
state == "doc" {
  if ($0 ~ /^ \*\/$/) {
    state = "code"
    pending = 1
    next
  }
  pend[++npend] = strip_comment_line($0)
  next
}

# Declarations of the API, possibly over several lines.
state == "code" && /^FUTURES_API[ \t]/ {
  end_item()
  indecl = 1
  decl = ""
}
indecl {
  decl = decl " " trim($0)
  if ($0 ~ /;[ \t]*$/) {
    indecl = 0
    add_func(decl)
  }
  next
}

# Code of the version and types sections, kept verbatim for the overview.
state == "code" && group == "version" {
  if ($0 != "")
    ver[++nver] = $0
  next
}
state == "code" && group == "types" {
  if ($0 == "") {
    # A blank line ends an item, unless the next line continues it without
    # a comment of its own (the *_INIT macros after their struct).
    blank = 1
    next
  }
  if (pending) {
    nitems++
    item_doc[nitems] = ""
    for (i = 1; i <= npend; i++)
      item_doc[nitems] = item_doc[nitems] pend[i] "\n"
    item_code[nitems] = ""
    pending = 0
    initem = 1
  } else if (initem && blank) {
    # Code with no comment of its own continues the previous item.
    item_code[nitems] = item_code[nitems] "\n"
  }
  if (initem)
    item_code[nitems] = item_code[nitems] $0 "\n"
  blank = 0
  next
}

function end_item() {
  initem = 0
}

function add_func(d,   name, p, i, line, m) {
  sub(/^ *FUTURES_API +/, "", d)
  # The attribute is for the compiler; the synopsis shows the prototype.
  sub(/^FUTURES_WARN_UNUSED +/, "", d)
  gsub(/[ \t]+/, " ", d)
  sub(/ *; *$/, ";", d)
  gsub(/\( /, "(", d)
  nfuncs++
  fdecl[nfuncs] = d
  p = index(d, "(")
  name = substr(d, 1, p - 1)
  sub(/.*[ *]/, "", name)
  fname[nfuncs] = name
  fidx[name] = nfuncs
  fgroup[nfuncs] = group
  fdocn[nfuncs] = pending ? npend : 0
  for (i = 1; i <= fdocn[nfuncs]; i++)
    fdoc[nfuncs, i] = pend[i]
  pending = 0
}

# ------------------------------------------------------------ parsing

# Splits function k's comment into summary, description, params, fields.
function parse_func(k,   i, line, mode, np, fields, n, parts, j, lab, nd, labs) {
  line = fdoc[k, 1]
  fsum[k] = line
  sub(/^[a-z_]+\(\) - /, "", fsum[k])
  # The summary goes on until a blank line (or a field or parameter).
  for (i = 2; i <= fdocn[k] && fdoc[k, i] != "" &&
       fdoc[k, i] !~ /^(@[a-z_]+|Return|Ownership|Threads|In a task|Since):/;
       i++)
    fsum[k] = fsum[k] " " trim(fdoc[k, i])
  sub(/\.$/, "", fsum[k])
  mode = "desc"
  nd = 0
  fdesc[k, 0] = 0
  np = 0
  fields = ""
  for (; i <= fdocn[k]; i++) {
    line = fdoc[k, i]
    if (line ~ /^@[a-z_]+:/) {
      mode = "param"
      np++
      pname[k, np] = substr(line, 2, index(line, ":") - 2)
      ptext[k, np] = trim(substr(line, index(line, ":") + 1))
    } else if (line ~ /^(Return|Ownership|Threads|In a task|Since):/) {
      mode = "fields"
      fields = fields "\001" line
    } else if (mode == "fields") {
      fields = fields " " trim(line)
    } else if (line == "") {
      if (mode == "param")
        mode = "desc"
      if (nd > 0 && fdesc[k, nd] != "")
        fdesc[k, ++nd] = ""
    } else if (mode == "param" && line ~ /^[ \t]/) {
      ptext[k, np] = ptext[k, np] " " trim(line)
    } else {
      mode = "desc"
      if (nd == 0 || fdesc[k, nd] == "")
        fdesc[k, ++nd] = trim(line)
      else
        fdesc[k, nd] = fdesc[k, nd] " " trim(line)
    }
  }
  while (nd > 0 && fdesc[k, nd] == "")
    nd--
  fndesc[k] = nd
  fnparams[k] = np
  # Several fields may share a line: "Return: x. Threads: safe."
  n = split("Return|Ownership|Threads|In a task|Since", labs, "|")
  for (j = 1; j <= n; j++)
    gsub("\\. " labs[j] ":", ".\001" labs[j] ":", fields)
  n = split(fields, parts, "\001")
  for (j = 1; j <= n; j++) {
    if (parts[j] == "")
      continue
    lab = substr(parts[j], 1, index(parts[j], ":") - 1)
    ffield[k, lab] = untested(trim(substr(parts[j], index(parts[j], ":") + 1)))
    gsub(/[ \t]+/, " ", ffield[k, lab])
  }
}

# The overview comment: description paragraphs, then "Global rules" with
# labelled sections, an error table inside "Errors.", and a Linking line.
function parse_header(   i, line, sec, lead, m) {
  nsec = 0
  ndp = 0
  sec = 0
  for (i = 1; i <= nhdr; i++) {
    line = hdr[i]
    if (line ~ /^Linking:/) {
      linking = trim(substr(line, 9))
      continue
    }
    if (line ~ /^Global rules/) {
      sec = -1
      continue
    }
    if (sec == 0) {
      if (line == "")
        hdesc[++ndp] = ""
      else if (ndp == 0 || hdesc[ndp] == "")
        hdesc[ndp ? ndp : ++ndp] = trim(line)
      else
        hdesc[ndp] = hdesc[ndp] " " trim(line)
      continue
    }
    if (match(line, /^  [A-Za-z]+\. +/)) {
      sec = ++nsec
      secname[sec] = trim(substr(line, 1, RLENGTH))
      sub(/\.$/, "", secname[sec])
      secn[sec] = 1
      sect[sec, 1] = "P" trim(substr(line, RLENGTH + 1))
      continue
    }
    if (sec <= 0 || line == "")
      continue
    lead = line
    sub(/[^ ].*/, "", lead)
    if (match(line, /^ +E[A-Z][A-Z][A-Z]+ +/) && length(lead) >= 12) {
      m = trim(substr(line, 1, RLENGTH))
      sect[sec, ++secn[sec]] = "T" m "\001" trim(substr(line, RLENGTH + 1))
      errtab[m] = trim(substr(line, RLENGTH + 1))
      lasterr = m
      continue
    }
    if (length(lead) >= 20 && substr(sect[sec, secn[sec]], 1, 1) == "T") {
      sect[sec, secn[sec]] = sect[sec, secn[sec]] " " trim(line)
      errtab[lasterr] = errtab[lasterr] " " trim(line)
      continue
    }
    if (substr(sect[sec, secn[sec]], 1, 1) == "T")
      sect[sec, ++secn[sec]] = "P" trim(line)
    else
      sect[sec, secn[sec]] = sect[sec, secn[sec]] " " trim(line)
  }
  while (ndp > 0 && hdesc[ndp] == "")
    ndp--
  for (sec = 1; sec <= nsec; sec++)
    for (i = 1; i <= secn[sec]; i++)
      sect[sec, i] = untested(sect[sec, i])
}

# ------------------------------------------------------------ writing

function th(name, out) {
  print ".\\\" SPDX-License-Identifier: MIT" > out
  print ".\\\" Generated by man/mkman.sh from include/futures.h; do not edit." > out
  print ".\\\" Change the header's comment and run `make man-update`." > out
  print ".TH " toupper(name) " 3 \"\" \"" title "\" \"libfutures Manual\"" > out
  # Identifiers are long and full of underscores: no hyphenation, and
  # ragged right rather than wide gaps.
  print ".nh" > out
  print ".ad l" > out
}

function library(out) {
  print ".SH LIBRARY" > out
  print "libfutures" > out
  print ".RB ( \\-lfutures ;" > out
  print ".B pkg\\-config \\-\\-cflags \\-\\-libs futures" > out
  print "gives the compiler and linker flags)" > out
}

# One prototype as .BI lines: types bold, parameter names italic; the
# parameters fill lines of up to 78 columns, aligned after the "(".
function synopsis(k, out,   d, p, head, params, n, parts, i, pad, pr, nm, sfx, t, line, width, piece) {
  d = fdecl[k]
  p = index(d, "(")
  head = substr(d, 1, p)
  params = substr(d, p + 1)
  sub(/\);$/, "", params)
  if (params == "void") {
    print ".BI \"" d "\"" > out
    return
  }
  n = split(params, parts, ", ")
  pad = head
  gsub(/./, " ", pad)
  line = ".BI \"" head
  width = length(head)
  for (i = 1; i <= n; i++) {
    pr = parts[i]
    sfx = ""
    if (pr ~ /\[\]$/) {
      sfx = "[]"
      sub(/\[\]$/, "", pr)
    }
    nm = pr
    sub(/.*[ *]/, "", nm)
    t = substr(pr, 1, length(pr) - length(nm))
    sfx = sfx (i < n ? "," : ");")
    if (i > 1 && width + 1 + length(parts[i]) + 2 > 78) {
      print line "\"" > out
      line = ".BI \"" pad
      width = length(pad)
    } else if (i > 1) {
      line = line " "
      width++
    }
    line = line t "\" " nm " \"" sfx
    width += length(parts[i]) + 1
  }
  print line "\"" > out
}

# Codes named in a Return text, in order of appearance, each with the
# entries of its ERRORS section (ecode[k, i], etext[k, i]; nerr[k]).
# A clause that starts with the code explains it ("EINVAL if @pool is
# NULL"); "ECHILD and EDEADLK as other()" takes other()'s entries; a code
# named bare gets one entry per "COND -> CODE" of the parameters, or else
# its meaning from the overview's table (plus a "(note)" that follows it).
function build_errors(k,   r, n, cl, i, s, tok, pre, post, codes, nc, c, m, fn, nl, list, j, note, t, chain, spec, bare, enote, eref, own) {
  if (k in built)
    return
  built[k] = 1
  decl_params(k)
  nerr[k] = 0
  r = ffield[k, "Return"]
  if (r == "")
    return
  # "ENOMEM, ECHILD and EDEADLK as other()": other()'s entries.
  split("", eref)
  nc = 0
  while (match(r, /(^|[^A-Za-z_0-9])E[A-Z][A-Z][A-Z]+((, | and | or |, and )E[A-Z][A-Z][A-Z]+)* as [a-z_]+\(\)/)) {
    if (substr(r, RSTART, 1) != "E") {
      RSTART++
      RLENGTH--
    }
    m = substr(r, RSTART, RLENGTH)
    r = substr(r, 1, RSTART - 1) substr(r, RSTART + RLENGTH)
    fn = substr(m, index(m, " as ") + 4)
    sub(/\(\)$/, "", fn)
    m = substr(m, 1, index(m, " as ") - 1)
    gsub(/(, and |, | and | or )/, " ", m)
    nl = split(m, list, " ")
    for (j = 1; j <= nl; j++) {
      if (!((k, list[j]) in eseen)) {
        eseen[k, list[j]] = 1
        codes[++nc] = list[j]
      }
      eref[list[j]] = fn
    }
  }
  gsub(/\. /, ";", r)
  n = split(r, cl, ";")
  split("", spec)
  split("", bare)
  split("", enote)
  for (i = 1; i <= n; i++) {
    s = cl[i]
    while (code_at(s)) {
      tok = substr(s, RSTART, RLENGTH)
      pre = trim(substr(s, 1, RSTART - 1))
      post = trim(substr(s, RSTART + RLENGTH))
      s = substr(s, RSTART + RLENGTH)
      if (!((k, tok) in eseen)) {
        eseen[k, tok] = 1
        codes[++nc] = tok
      }
      sub(/\.$/, "", post)
      # "EMFILE or ENFILE (note)": the codes of a chain share what follows.
      if (post ~ /^(or|and|,) E[A-Z][A-Z][A-Z]+/ && (pre == "" ||
          pre ~ /(^|, )(plus|and|or|also)$/)) {
        chain = chain " " tok
        bare[tok] = 1
        continue
      }
      if (post ~ /^\(/ && (pre == "" || pre ~ /(^|, )(plus|and|or|also)$/ ||
          pre ~ /^(or|and|,)$/ && chain != "")) {
        enote[tok] = paren(post)
        nl = split(chain, list, " ")
        for (j = 1; j <= nl; j++)
          enote[list[j]] = enote[tok]
      }
      # "ETIMEDOUT, leaving the future intact": a note as well.
      if (post ~ /^, [a-z]/ && post !~ /^, (or|and|as|plus|also|if|when|for|once|while) / &&
          (pre == "" || pre ~ /(^|, )(plus|and|or|also)$/) && !code_at(post))
        enote[tok] = substr(post, 3)
      chain = ""
      if (pre != "" && pre !~ /(^|, )(plus|and|or|also)$/ || post == "" ||
          post ~ /^[,(]/) {
        bare[tok] = 1
        continue
      }
      spec[tok] = spec[tok] (spec[tok] == "" ? "" : "\001") post
      s = ""  # the rest of the clause belongs to this code
    }
  }
  for (i = 1; i <= nc; i++) {
    c = codes[i]
    if (c in spec) {
      nl = split(spec[c], list, "\001")
      for (j = 1; j <= nl; j++)
        spec_errs(k, c, list[j])
      # "EINVAL for an unknown flag" with "@opts: ... -> EINVAL": both,
      # unless the Return line's own text names the parameter.
      param_errs(k, c, spec[c])
      own = own " " c " "
    } else if ((c in eref) && (eref[c] in fidx) && eref[c] != fname[k] &&
               copy_errs(k, c, fidx[eref[c]])) {
      # copied
    } else if (!param_errs(k, c) && !(!(c in enote) &&
               (!(c in errtab) || ffield[k, "Return"] ~ /[;,] [Aa]s [a-z_]+\(\)\.?$/) &&
               as_fn(k) != "" && copy_errs(k, c, fidx[as_fn(k)]))) {
      t = (c in errtab) ? sentence(cap(localize(errtab[c]))) : first_err(as_fn(k), c)
      if (t == "" && (c in enote))
        t = sentence(cap(enote[c]))
      add_err(k, c, t == "" ? "See RETURN VALUE." : t)  # keep_note adds a note
    }
    if (c in enote)
      keep_note(k, c, enote[c])
  }
  # Codes the parameters name that the Return line leaves to another page
  # ("As futures_pool_destroy()."): their conditions here.
  for (i = 1; i <= fnparams[k]; i++) {
    s = param_text(k, i)
    while (match(s, / -> E[A-Z][A-Z][A-Z]+/)) {
      c = substr(s, RSTART + 4, RLENGTH - 4)
      s = substr(s, RSTART + RLENGTH)
      if (!((k, c) in eseen)) {
        eseen[k, c] = 1
        param_errs(k, c)
      }
    }
  }
  # "As other()" or "as other(), plus ...": other()'s entries, each that
  # fits this function (see copy_errs), after this function's own.
  if (match(ffield[k, "Return"], /^[Aa]s [a-z_]+\(\)/)) {
    fn = substr(ffield[k, "Return"], RSTART + 3, RLENGTH - 5)
    if ((fn in fidx) && fn != fname[k])
      copy_errs(k, "", fidx[fn], own)
  }
}

# One "ECODE if/when/for COND" of a Return line: "COND, or when COND2"
# gives an entry each; ", or as other()" at its end takes other()'s
# entries for the code instead of becoming part of the sentence.
function spec_errs(k, c, p,   n, parts, i, fn) {
  if (match(p, /,? or as [a-z_]+\(\)$/)) {
    fn = substr(p, RSTART, RLENGTH)
    sub(/.* as /, "", fn)
    sub(/\(\)$/, "", fn)
    p = substr(p, 1, RSTART - 1)
    add_err(k, c, condition(p))
    if ((fn in fidx) && fn != fname[k])
      copy_errs(k, c, fidx[fn])
    return
  }
  gsub(/, or (when|if|where) /, "\001if ", p)
  n = split(p, parts, "\001")
  for (i = 1; i <= n; i++)
    add_err(k, c, condition(parts[i]))
}

# A note the Return line gives code @c ("EINVAL (*@any is then NULL)",
# "ETIMEDOUT, leaving the future intact") that none of its entries has
# yet: added to the last of them.
function keep_note(k, c, note,   i, last, n) {
  last = 0
  n = 0
  for (i = 1; i <= nerr[k]; i++)
    if (ecode[k, i] == c) {
      if (index(tolower(etext[k, i]), tolower(note)) > 0)
        return
      last = i
      n++
    }
  if (last == 0)
    return
  sub(/\.$/, "", etext[k, last])
  if (n > 1) {
    sub(/^then /, "", note)
    etext[k, last] = etext[k, last] ". In each case, " sentence(note)
  } else if (note ~ /^[a-z]+ing / && note !~ /^(no|some|every|any)thing /)
    etext[k, last] = etext[k, last] ", " note "."
  else
    etext[k, last] = etext[k, last] ". " sentence(cap(note))
}

# hasparam[k, name] for each parameter of function k's prototype.
function decl_params(k,   d, n, parts, i, w) {
  d = fdecl[k]
  sub(/^[^(]*\(/, "", d)
  sub(/\)[^)]*$/, "", d)
  n = split(d, parts, ",")
  for (i = 1; i <= n; i++) {
    w = parts[i]
    sub(/\[[^]]*\]/, "", w)
    if (match(w, /[A-Za-z_][A-Za-z_0-9]*[ \t]*$/))
      hasparam[k, trim(substr(w, RSTART, RLENGTH))] = 1
  }
}

# Finds the first error code in @s that is a word of its own (not the
# tail of FUTURES_DESTROY_CANCEL): 1 with RSTART and RLENGTH set, or 0.
function code_at(s,   off) {
  off = 0
  while (match(s, /E[A-Z][A-Z][A-Z]+/)) {
    if (RSTART == 1 || substr(s, RSTART - 1, 1) !~ /[A-Za-z_0-9]/) {
      RSTART += off
      return 1
    }
    off += RSTART + RLENGTH - 1
    s = substr(s, RSTART + RLENGTH)
  }
  return 0
}

function add_err(k, c, t,   i) {
  for (i = 1; i <= nerr[k]; i++)
    if (ecode[k, i] == c && etext[k, i] == t)
      return  # "EINVAL if @future is NULL" and "@future: NULL -> EINVAL"
  nerr[k]++
  ecode[k, nerr[k]] = c
  etext[k, nerr[k]] = t
}

# The text inside the parentheses that open @s.
function paren(s,   i, d, ch) {
  d = 0
  for (i = 1; i <= length(s); i++) {
    ch = substr(s, i, 1)
    if (ch == "(")
      d++
    else if (ch == ")" && --d == 0)
      return substr(s, 2, i - 2)
  }
  return substr(s, 2)
}

# "if @pool is NULL" -> "pool is NULL."; "once destroy has begun" ->
# "Returned once destroy has begun."
function condition(p) {
  sub(/^also /, "", p)
  if (p ~ /^(if|when|where) /)
    sub(/^[a-z]+ /, "", p)
  else if (p ~ /^(for|once|while|on|after|before|from|in|with|unless|until|at|as|by) /)
    p = "returned " p
  return sentence(p ~ /^@/ ? p : cap(p))
}

# The first ERRORS entry of function @fn for code @c, or "".
function first_err(fn, c,   m, i) {
  if (!(fn in fidx))
    return ""
  m = fidx[fn]
  build_errors(m)
  for (i = 1; i <= nerr[m]; i++)
    if (ecode[m, i] == c)
      return etext[m, i]
  return ""
}

# The entries of page @from for code @c (every code for "", but those
# in @skip, " CODE CODE "), copied to page @k; not one that names a
# parameter @k does not have (future_wait_until()'s "@abstime is NULL" is
# no error of future_wait_for()), nor one @k has.
function copy_errs(k, c, from, skip,   i, n, j, t, w, dup) {
  build_errors(from)
  n = 0
  for (i = 1; i <= nerr[from]; i++) {
    if (c != "" && ecode[from, i] != c)
      continue
    if (index(skip, " " ecode[from, i] " ") > 0)
      continue
    t = etext[from, i]
    w = ""
    while (match(t, /@[a-z_][a-z_0-9]*/)) {
      w = substr(t, RSTART + 1, RLENGTH - 1)
      t = substr(t, RSTART + RLENGTH)
      if (!((k, w) in hasparam))
        break
      w = ""
    }
    if (w != "")
      continue
    dup = 0
    for (j = 1; j <= nerr[k]; j++)
      if (ecode[k, j] == ecode[from, i] && etext[k, j] == etext[from, i])
        dup = 1
    if (dup)
      continue
    add_err(k, ecode[from, i], etext[from, i])
    n++
  }
  return n
}

# The other() of an "as other()" anywhere in function k's Return line.
function as_fn(k,   r, fn) {
  r = ffield[k, "Return"]
  while (match(r, /[Aa]s [a-z_]+\(\)/)) {
    fn = substr(r, RSTART + 3, RLENGTH - 5)
    r = substr(r, RSTART + RLENGTH)
    if ((fn in fidx) && fn != fname[k])
      return fn
  }
  return ""
}

# One entry per "COND -> @c" in the parameters of function k, but those
# of a parameter that @skip names ("@pool").
function param_errs(k, c, skip,   i, t, n, pos, before, cond, rest) {
  n = 0
  for (i = 1; i <= fnparams[k]; i++) {
    if (index(skip, "@" pname[k, i]) > 0)
      continue
    t = param_text(k, i)
    while ((pos = index(t, " -> " c)) > 0) {
      rest = substr(t, pos + 4 + length(c))
      before = substr(t, 1, pos - 1)
      t = rest
      if (rest ~ /^[A-Z]/)
        continue  # a longer code
      # The condition is the last clause before the arrow.
      while (match(before, /(\. |; )/))
        before = substr(before, RSTART + RLENGTH)
      cond = trim(before)
      sub(/^\([^)]*\) */, "", cond)
      if (cond == "")
        continue
      if (index(cond, pname[k, i]) == 1 && substr(cond, length(pname[k, i]) + 1, 1) !~ /[A-Za-z_0-9]/)
        cond = "@" cond  # "opts->size is ...": the parameter, in italics
      else if (cond ~ /^[a-z_]+ / && cond !~ /^(a|an|any|anything|not|too|one|zero|empty|more|less|negative|greater|smaller|larger|outside|beyond)( |$)/ && index(cond, pname[k, i]) != 1)
        cond = "@" pname[k, i] " has " cond
      else if (cond !~ /^@/ && index(cond, pname[k, i]) != 1)
        cond = "@" pname[k, i] " is " cond
      # A note in parentheses right after the code stays with it.
      if (rest ~ /^ \(/)
        cond = cond " (" paren(substr(rest, 2)) ")"
      add_err(k, c, sentence(cond ~ /^@/ ? cond : cap(cond)))
      n++
    }
  }
  return n
}

# Parameter i of function k, with "(borrowed) As other()." replaced by
# the text of other()'s parameter of the same name, if it has one.
function param_text(k, i,   t, fn, j, depth, m) {
  t = ptext[k, i]
  for (depth = 0; depth < 4; depth++) {
    if (!match(t, /^(\([^)]*\) )?[Aa]s [a-z_]+\(\)/))
      return t
    fn = substr(t, 1, RLENGTH - 2)
    sub(/.* /, "", fn)
    if (!(fn in fidx))
      return t
    m = fidx[fn]
    for (j = 1; j <= fnparams[m]; j++)
      if (pname[m, j] == pname[k, i])
        break
    if (j > fnparams[m])
      return t
    t = t " " ptext[m, j]
    k = m
    i = j
    t = ptext[k, i]
  }
  return t
}

# "COND -> ECODE" of a parameter, as prose: "COND gives ECODE".
function arrows(s) {
  while (match(s, / -> [^ ]/))
    s = substr(s, 1, RSTART - 1) " gives " substr(s, RSTART + 4)
  return s
}

function errors_section(k, out,   i, j, as, done) {
  build_errors(k)
  as = ""
  if (match(ffield[k, "Return"], /^[Aa]s [a-z_]+\(\)/)) {
    as = substr(ffield[k, "Return"], RSTART + 3, RLENGTH - 5)
    if (!(as in fidx) || as == fname[k])
      as = ""
  }
  if (nerr[k] == 0 && as == "")
    return
  print ".SH ERRORS" > out
  # The entries of one code together, codes in order of first appearance.
  split("", done)
  for (i = 1; i <= nerr[k]; i++) {
    if (ecode[k, i] in done)
      continue
    done[ecode[k, i]] = 1
    for (j = i; j <= nerr[k]; j++) {
      if (ecode[k, j] != ecode[k, i])
        continue
      print ".TP" > out
      print ".B " ecode[k, j] > out
      print safe(markup(etext[k, j])) > out
    }
  }
  if (ffield[k, "Return"] ~ /code/) {
    # A function that passes a task's outcome on: any other value is the
    # task's own, as the overview's ERRORS section explains.
    print ".PP" > out
    print "Any other non\\-zero value is the code a task returned; see ERRORS in" > out
    print ".BR libfutures (3)." > out
  }
}

function sentence(s) {
  return s ~ /[.?!]$/ ? s : s "."
}

function cap(s) {
  return toupper(substr(s, 1, 1)) substr(s, 2)
}

# A function page cannot point "above" into the header's overview.
function localize(s,   t) {
  while (match(s, /"[A-Za-z]+" (above|below)/)) {
    t = substr(s, RSTART + 1, index(substr(s, RSTART + 1), "\"") - 1)
    s = substr(s, 1, RSTART - 1) toupper(t) " in libfutures(3)" \
      substr(s, RSTART + RLENGTH)
  }
  return s
}

function see_also(k, out,   all, i, s, tok, nm, list, n) {
  all = fsum[k]
  for (i = 1; i <= fndesc[k]; i++)
    all = all " " fdesc[k, i]
  for (i = 1; i <= fnparams[k]; i++)
    all = all " " ptext[k, i]
  all = all " " ffield[k, "Return"] " " ffield[k, "Ownership"] " " \
    ffield[k, "Threads"] " " ffield[k, "In a task"]
  split("", refs)
  n = 0
  s = all
  while (match(s, /[a-z_]+\(\)/)) {
    nm = substr(s, RSTART, RLENGTH - 2)
    s = substr(s, RSTART + RLENGTH)
    if ((nm in fidx) && nm != fname[k] && !(nm in refs)) {
      refs[nm] = 1
      list[++n] = nm
    }
  }
  sort_names(list, n)
  print ".SH SEE ALSO" > out
  for (i = 1; i <= n; i++)
    print ".BR " list[i] " (3)," > out
  print ".BR libfutures (3)" > out
}

function sort_names(a, n,   i, j, t) {
  for (i = 2; i <= n; i++)
    for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
      t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
    }
}

function example(name, out,   file, line, first, ok) {
  if (exdir == "")
    return
  file = exdir "/" name ".c"
  if ((getline line < file) <= 0)
    return
  print ".SH EXAMPLES" > out
  print "A complete program; build it with" > out
  print ".BR \"cc prog.c $(pkg\\-config \\-\\-cflags \\-\\-libs futures)\" ." > out
  print ".PP" > out
  print ".EX" > out
  first = 1
  do {
    if (first && line ~ /SPDX-License-Identifier/) {
      first = 0
      continue
    }
    first = 0
    print code(line) > out
  } while ((getline line < file) > 0)
  close(file)
  print ".EE" > out
}

function para_field(k, lab, head, out) {
  if (ffield[k, lab] == "")
    return
  print ".SH " head > out
  print safe(markup(cap(localize(ffield[k, lab])))) > out
}

function write_func(k,   out, i, name) {
  name = fname[k]
  out = outdir "/" name ".3"
  th(name, out)
  print ".SH NAME" > out
  print name " \\- " markup(fsum[k]) > out
  library(out)
  print ".SH SYNOPSIS" > out
  print ".nf" > out
  print ".B #include <futures.h>" > out
  print ".PP" > out
  synopsis(k, out)
  print ".fi" > out
  print ".SH DESCRIPTION" > out
  for (i = 1; i <= fndesc[k]; i++) {
    if (fdesc[k, i] == "")
      print ".PP" > out
    else
      print safe(markup(localize(arrows(fdesc[k, i])))) > out
  }
  if (fnparams[k] > 0) {
    print ".SS Arguments" > out
    for (i = 1; i <= fnparams[k]; i++) {
      print ".TP" > out
      print ".I " pname[k, i] > out
      print safe(markup(localize(arrows(ptext[k, i])))) > out
    }
  }
  if (fndesc[k] == 0 && fnparams[k] == 0)
    print markup(sentence(fsum[k])) > out
  print ".SH RETURN VALUE" > out
  if (ffield[k, "Return"] != "")
    print safe(markup(cap(localize(ffield[k, "Return"])))) > out
  else if (fdecl[k] ~ /^void /)
    print ".BR " name " ()\nreturns no value." > out
  errors_section(k, out)
  para_field(k, "Ownership", "OWNERSHIP", out)
  para_field(k, "Threads", "THREADS", out)
  para_field(k, "In a task", "IN A TASK", out)
  example(name, out)
  if (ffield[k, "Since"] != "") {
    print ".SH HISTORY" > out
    print "Added in libfutures " ffield[k, "Since"] "." > out
  }
  see_also(k, out)
  close(out)
}

function item_title(k,   c, d, n, lines, i, last) {
  d = item_doc[k]
  if (match(d, /^[a-z_]+ - /))
    return substr(d, 1, RLENGTH - 3)
  c = item_code[k]
  sub(/^\n+/, "", c)
  if (match(c, /\(\*[a-z_]+\)/))
    return substr(c, RSTART + 2, RLENGTH - 3)
  if (c ~ /^enum /) {
    sub(/ *\{.*/, "", c)
    return c
  }
  if (c ~ /^#define /) {
    sub(/^#define /, "", c)
    sub(/[ (].*/, "", c)
    return c
  }
  # typedef ... name; : the identifier before the ";" that ends the
  # declaration, i.e. on the last line of its first paragraph.
  n = split(c, lines, "\n")
  for (i = 1; i <= n && lines[i] != ""; i++)
    last = lines[i]
  sub(/;.*/, "", last)
  sub(/.*[ }*]/, "", last)
  return last
}

function write_items(out,   k, d, n, lines, i, c, np) {
  for (k = 1; k <= nitems; k++) {
    print ".SS " item_title(k) > out
    d = item_doc[k]
    sub(/^[a-z_]+ - /, "", d)
    n = split(d, lines, "\n")
    np = ""
    for (i = 1; i <= n; i++) {
      if (trim(lines[i]) == "") {
        if (np != "") {
          print safe(markup(np)) > out
          print ".PP" > out
        }
        np = ""
      } else
        np = np (np == "" ? "" : " ") trim(lines[i])
    }
    if (np != "")
      print safe(markup(np)) > out
    print ".PP" > out
    print ".EX" > out
    n = split(item_code[k], lines, "\n")
    while (n > 0 && lines[n] == "")
      n--
    for (i = 1; i <= n; i++)
      print code(lines[i]) > out
    print ".EE" > out
  }
}

function write_overview(   out, i, j, t, k, g, lastg, list, n) {
  out = outdir "/libfutures.3"
  th("libfutures", out)
  t = hdesc[1]
  print ".SH NAME" > out
  # "libfutures - a fixed pool ... futures, and the ways to wait for them."
  sub(/^libfutures - /, "", t)
  if (index(t, ". ") > 0)
    t = substr(t, 1, index(t, ". ") - 1)
  sub(/\.$/, "", t)
  print "libfutures \\- " markup(t) > out
  library(out)
  print ".SH SYNOPSIS" > out
  print ".nf" > out
  print ".B #include <futures.h>" > out
  lastg = ""
  for (k = 1; k <= nfuncs; k++) {
    if (fgroup[k] != lastg) {
      print ".PP" > out
      lastg = fgroup[k]
    }
    synopsis(k, out)
  }
  print ".fi" > out
  print ".SH DESCRIPTION" > out
  for (i = 2; i <= ndp; i++) {
    if (hdesc[i] == "")
      print ".PP" > out
    else
      print safe(markup(hdesc[i])) > out
  }
  if (linking != "") {
    print ".PP" > out
    print "Build a program against the installed library with" > out
    print ".PP" > out
    print ".EX" > out
    print code(linking) > out
    print ".EE" > out
  }
  for (i = 1; i <= nsec; i++) {
    print ".SH " toupper(secname[i]) > out
    for (j = 1; j <= secn[i]; j++) {
      t = sect[i, j]
      if (substr(t, 1, 1) == "T") {
        t = substr(t, 2)
        print ".TP" > out
        print ".B " substr(t, 1, index(t, "\001") - 1) > out
        print safe(markup(substr(t, index(t, "\001") + 1))) > out
      } else {
        if (j > 1)
          print ".PP" > out
        print safe(markup(substr(t, 2))) > out
      }
    }
  }
  print ".SH FUNCTIONS" > out
  lastg = ""
  for (k = 1; k <= nfuncs; k++) {
    g = fgroup[k]
    if (g != lastg) {
      print ".SS " toupper(substr(g, 1, 1)) substr(g, 2) > out
      lastg = g
    }
    print ".TP" > out
    print ".BR " fname[k] " (3)" > out
    print markup(sentence(fsum[k])) > out
  }
  print ".SH DATA TYPES" > out
  write_items(out)
  print ".SH VERSION MACROS" > out
  print ".EX" > out
  for (i = 1; i <= nver; i++)
    print code(ver[i]) > out
  print ".EE" > out
  print ".SH SEE ALSO" > out
  n = 0
  for (k = 1; k <= nfuncs; k++)
    list[++n] = fname[k]
  sort_names(list, n)
  for (i = 1; i <= n; i++)
    print ".BR " list[i] " (3)," > out
  print ".BR pkg\\-config (1)," > out
  print ".BR pthreads (7)" > out
  close(out)
}

END {
  if (nfuncs == 0) {
    print "mkman.awk: no FUTURES_API declarations found" > "/dev/stderr"
    exit 1
  }
  for (k = 1; k <= nfuncs; k++) {
    if (fdocn[k] == 0 || fdoc[k, 1] !~ /^[a-z_]+\(\) - /) {
      print "mkman.awk: " fname[k] ": no contract comment above it" \
        > "/dev/stderr"
      exit 1
    }
    parse_func(k)
    if (ffield[k, "Since"] == "") {
      print "mkman.awk: " fname[k] ": no Since: line" > "/dev/stderr"
      exit 1
    }
  }
  parse_header()
  for (k = 1; k <= nfuncs; k++)
    write_func(k)
  write_overview()
}
