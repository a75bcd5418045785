/* SPDX-License-Identifier: MIT */
/*
 * atomics.h - the C11 atomics the library uses, and the seam where the
 * model checker (tests/model/) substitutes its own.
 *
 * Library code spells atomics the standard C11 way, in the specifier form
 * _Atomic(T), with the *_explicit operations and named memory orders. In
 * the library build this header is <stdatomic.h> and nothing else. In the
 * model build (C++, FUTURES_MODEL defined) tests/model/ maps the same
 * names onto the Relacy race detector's types, so the checked code is the
 * library's own source.
 */
#ifndef FUTURES_ATOMICS_H
#define FUTURES_ATOMICS_H

#ifdef FUTURES_MODEL
#include "model_shim.h"
#else
#include <stdatomic.h>
#endif

#endif /* FUTURES_ATOMICS_H */
