/* The checks of the C test programs: count passes and failures, print each failure with the
 * library's last error. Each program prints "NAME: P passed, F failed" at its end. */
#ifndef DFUFLASH_TEST_CHECK_H
#define DFUFLASH_TEST_CHECK_H

#include <stdio.h>

#include "dfuflash.h"

#ifdef DFUFLASH_TEST_SPLIT
/* A program of several files: its main file defines them. */
extern int passed, failed;
#else
static int passed, failed;
#endif

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (cond) {                                                           \
            passed++;                                                         \
        } else {                                                              \
            failed++;                                                         \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, " (last error: %s)\n", dfuflash_last_error());   \
        }                                                                     \
    } while (0)

#endif
