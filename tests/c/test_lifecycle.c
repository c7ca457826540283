/* Random flash / cancel / close interleavings on one device handle from several threads, as an
 * IDE's worker thread, Cancel button and window close race each other. Every call must return
 * a code the header allows; nothing may crash, leak or touch freed memory. Run by
 * tests/c_api.rs plainly, under ASan/UBSan, under ThreadSanitizer and under valgrind:
 *   test_lifecycle ITERATIONS SEED [--require-every-outcome] */
#include "dfuflash.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

struct trial {
    dfuflash_device *dev;
    const dfuflash_image *img;
    unsigned seed;
    int close_from_callback; /* the worker's own progress callback closes the device */
    int callbacks;
    int rc_flash, rc_second, rc_cancel;
    char second_error[512]; /* the second call's message: last errors are per thread */
    unsigned cancel_delay_us, close_delay_us, second_delay_us;
};

static void pause_us(unsigned us) {
    struct timespec ts = {0, (long)us * 1000L};
    if (us) nanosleep(&ts, NULL);
}

static int32_t on_progress(void *user, const dfuflash_progress *p) {
    struct trial *t = user;
    (void)p;
    if (t->close_from_callback && ++t->callbacks == 3) dfuflash_device_close(t->dev);
    return DFUFLASH_CONTINUE;
}

static void *flasher(void *arg) {
    struct trial *t = arg;
    dfuflash_options *o = NULL;
    dfuflash_options_new(&o);
    dfuflash_options_set_progress_callback(o, on_progress);
    dfuflash_options_set_user_data(o, t);
    t->rc_flash = dfuflash_download(t->dev, t->img, o);
    dfuflash_options_free(o);
    return NULL;
}

static void *second_caller(void *arg) {
    struct trial *t = arg;
    pause_us(t->second_delay_us);
    dfuflash_report r = {.size = sizeof r};
    t->rc_second = (t->seed & 1) ? dfuflash_device_report(t->dev, &r) : dfuflash_download(t->dev, t->img, NULL);
    size_t needed = 0;
    dfuflash_last_error_copy(t->second_error, sizeof t->second_error, &needed);
    return NULL;
}

static void *canceller(void *arg) {
    struct trial *t = arg;
    pause_us(t->cancel_delay_us);
    t->rc_cancel = dfuflash_cancel(t->dev);
    return NULL;
}

static void *closer(void *arg) {
    struct trial *t = arg;
    pause_us(t->close_delay_us);
    dfuflash_device_close(t->dev);
    return NULL;
}

/* Two operations whose callbacks close each other's devices: close never waits inside a
 * callback, so neither blocks the other. Each callback waits (with a deadline) until both
 * closes have returned, so both operations are cancelled. */
static atomic_int in_callbacks, closes_returned;

struct crossed {
    dfuflash_device *own, *other;
    int closed, rc, waited_out;
};

static int wait_for(atomic_int *counter, int n) {
    for (int i = 0; i < 10000 && atomic_load(counter) < n; i++) pause_us(1000); /* 10 s at most */
    return atomic_load(counter) >= n;
}

static int32_t close_the_other(void *user, const dfuflash_progress *p) {
    struct crossed *c = user;
    (void)p;
    if (!c->closed) {
        c->closed = 1;
        atomic_fetch_add(&in_callbacks, 1);
        c->waited_out |= !wait_for(&in_callbacks, 2);
        dfuflash_device_close(c->other);
        atomic_fetch_add(&closes_returned, 1);
        c->waited_out |= !wait_for(&closes_returned, 2);
    }
    return DFUFLASH_CONTINUE;
}

static void *crossed_flash(void *arg) {
    struct crossed *c = arg;
    static uint8_t fw[16384];
    dfuflash_image *img = NULL;
    dfuflash_options *o = NULL;
    dfuflash_image_from_memory(fw, sizeof fw, 0x08000000u, 0, &img);
    dfuflash_options_new(&o);
    dfuflash_options_set_progress_callback(o, close_the_other);
    dfuflash_options_set_user_data(o, c);
    c->rc = dfuflash_download(c->own, img, o);
    dfuflash_options_free(o);
    dfuflash_image_free(img);
    return NULL;
}

static void test_callbacks_closing_each_others_devices(void) {
    dfuflash_device *a = NULL, *b = NULL;
    CHECK(dfuflash_open_simulated("stm32l4", NULL, 0, &a) == DFUFLASH_OK, "open a");
    CHECK(dfuflash_open_simulated("stm32l4", NULL, 0, &b) == DFUFLASH_OK, "open b");
    struct crossed ca = {a, b, 0, -1, 0}, cb = {b, a, 0, -1, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, crossed_flash, &ca);
    pthread_create(&tb, NULL, crossed_flash, &cb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(!ca.waited_out && !cb.waited_out, "a close inside a callback waited for the other operation");
    CHECK(ca.rc == DFUFLASH_ERR_CANCELLED && cb.rc == DFUFLASH_ERR_CANCELLED, "both cancelled: %d %d", ca.rc, cb.rc);
    CHECK(dfuflash_cancel(a) == DFUFLASH_ERR_INVALID_HANDLE && dfuflash_cancel(b) == DFUFLASH_ERR_INVALID_HANDLE,
          "both closed");
}

enum { N_OUTCOMES = 5 };
static const char *outcome_names[N_OUTCOMES] = {"ok", "cancelled", "closed first", "busy", "other"};

static int outcome(int rc) {
    switch (rc) {
    case DFUFLASH_OK: return 0;
    case DFUFLASH_ERR_CANCELLED: return 1;
    case DFUFLASH_ERR_INVALID_HANDLE: return 2;
    case DFUFLASH_ERR_BUSY: return 3;
    default: return 4;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_lifecycle ITERATIONS SEED [--require-every-outcome]\n");
        return 2;
    }
    int iterations = atoi(argv[1]);
    unsigned seed = (unsigned)strtoul(argv[2], NULL, 0);
    int require_every = argc > 3 && strcmp(argv[3], "--require-every-outcome") == 0;
    static uint8_t fw[65536];
    for (size_t i = 0; i < sizeof fw; i++) fw[i] = (uint8_t)(i * 7 + 3);
    dfuflash_image *img = NULL;
    CHECK(dfuflash_image_from_memory(fw, sizeof fw, 0x08000000u, 0, &img) == DFUFLASH_OK, "image");
    test_callbacks_closing_each_others_devices();
    int counts[N_OUTCOMES] = {0};
    for (int i = 0; i < iterations; i++) {
        struct trial t;
        memset(&t, 0, sizeof t);
        t.seed = (unsigned)rand_r(&seed);
        t.img = img;
        t.close_from_callback = t.seed % 7 == 0;
        t.cancel_delay_us = (unsigned)rand_r(&seed) % 400;
        t.close_delay_us = (unsigned)rand_r(&seed) % 600;
        t.second_delay_us = (unsigned)rand_r(&seed) % 200;
        t.rc_flash = t.rc_second = t.rc_cancel = -1;
        if (dfuflash_open_simulated("stm32l4", NULL, 0, &t.dev) != DFUFLASH_OK) {
            CHECK(0, "open: %s", dfuflash_last_error());
            break;
        }
        int with_second = t.seed % 3 == 0;
        if (t.seed % 11 == 0) dfuflash_device_close(t.dev); /* a window closed before the worker started */
        pthread_t tf, ts, tc, tx;
        pthread_create(&tf, NULL, flasher, &t);
        if (with_second) pthread_create(&ts, NULL, second_caller, &t);
        pthread_create(&tc, NULL, canceller, &t);
        if (!t.close_from_callback) pthread_create(&tx, NULL, closer, &t);
        pthread_join(tf, NULL);
        if (with_second) pthread_join(ts, NULL);
        pthread_join(tc, NULL);
        if (!t.close_from_callback) pthread_join(tx, NULL);
        else dfuflash_device_close(t.dev); /* the callback may not have run: close here too */

        int k = outcome(t.rc_flash);
        counts[k]++;
        CHECK(k != 4, "trial %d: flash returned %d (%s)", i, t.rc_flash, dfuflash_status_str(t.rc_flash));
        CHECK(!(with_second && t.rc_second != DFUFLASH_OK && t.rc_second != DFUFLASH_ERR_BUSY &&
                t.rc_second != DFUFLASH_ERR_CANCELLED && t.rc_second != DFUFLASH_ERR_INVALID_HANDLE),
              "trial %d: the second call returned %d (%s)", i, t.rc_second, t.second_error);
        CHECK(t.rc_cancel == DFUFLASH_OK || t.rc_cancel == DFUFLASH_ERR_INVALID_HANDLE,
              "trial %d: cancel returned %d", i, t.rc_cancel);
        /* After close every call with the handle is refused, never served from freed memory. */
        CHECK(dfuflash_cancel(t.dev) == DFUFLASH_ERR_INVALID_HANDLE, "trial %d: cancel after close", i);
        dfuflash_device_desc d = {.size = sizeof d};
        CHECK(dfuflash_device_info(t.dev, &d) == DFUFLASH_ERR_INVALID_HANDLE, "trial %d: info after close", i);
    }
    dfuflash_image_free(img);
    printf("lifecycle: %d trials:", iterations);
    for (int k = 0; k < N_OUTCOMES; k++) printf(" %s %d%s", outcome_names[k], counts[k], k + 1 < N_OUTCOMES ? "," : "\n");
    if (require_every)
        for (int k = 0; k < 3; k++) CHECK(counts[k] > 0, "no trial ended %s: the interleavings were not exercised", outcome_names[k]);
    printf("lifecycle: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
