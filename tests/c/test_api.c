/* The C API against the simulator, as an IDE would use it. Run by tests/c_api.rs:
 *   test_api FILE.dfu   (a DfuSe file with one target at 0x08040000, about 1.8 MB) */
#include "dfuflash.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Two files make this program: both count into one pair of counters (check.h). */
#define DFUFLASH_TEST_SPLIT
#include "check.h"
#include "test_api.h"

int passed, failed;

struct watch {
    int phases[8];
    int n_phases;
    int last_phase;
    uint64_t last_done;
    uint64_t total;
    int ok;        /* monotonic, totals stable, done <= total */
    int writes;
    int cancel_after_writes;
    int warns;
    int erase_k_ok;
    /* cancel from another thread */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int started;
    int cancelled;
    dfuflash_device *dev;
};

static void watch_init(struct watch *w) {
    memset(w, 0, sizeof *w);
    w->ok = 1;
    w->erase_k_ok = 1;
    w->last_phase = -1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
}

static int32_t on_progress(void *user, const dfuflash_progress *p) {
    struct watch *w = user;
    if (p->phase != w->last_phase) {
        if (w->n_phases < 8) w->phases[w->n_phases++] = p->phase;
        w->last_phase = p->phase;
        w->total = p->total;
        w->last_done = p->done;
    } else if (p->done < w->last_done || p->total != w->total) {
        w->ok = 0;
    }
    if (p->done > p->total) w->ok = 0;
    w->last_done = p->done;
    if (p->phase == DFUFLASH_PHASE_ERASE && p->done > 0 && (p->sector_k != (int32_t)p->done || p->sector_n != (int32_t)p->total))
        w->erase_k_ok = 0;
    if (p->phase == DFUFLASH_PHASE_WRITE && p->done > 0) {
        w->writes++;
        if (w->cancel_after_writes && w->writes >= w->cancel_after_writes) return DFUFLASH_CANCEL;
        if (w->dev && !w->started) {
            /* Tell the other thread, then wait until it has cancelled. */
            pthread_mutex_lock(&w->lock);
            w->started = 1;
            pthread_cond_broadcast(&w->cond);
            while (!w->cancelled) pthread_cond_wait(&w->cond, &w->lock);
            pthread_mutex_unlock(&w->lock);
        }
    }
    return DFUFLASH_CONTINUE;
}

static void on_log(void *user, int32_t level, const char *message) {
    struct watch *w = user;
    if (level == DFUFLASH_LOG_WARN && strstr(message, "Rev V")) w->warns++;
}

static void *canceller(void *arg) {
    struct watch *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->started) pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
    int rc = dfuflash_cancel(w->dev);
    pthread_mutex_lock(&w->lock);
    w->cancelled = rc == DFUFLASH_OK ? 1 : 2;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static dfuflash_options *options(struct watch *w) {
    dfuflash_options *o = NULL;
    if (dfuflash_options_new(&o) != DFUFLASH_OK) return NULL;
    dfuflash_options_set_progress_callback(o, on_progress);
    dfuflash_options_set_log_callback(o, on_log);
    dfuflash_options_set_user_data(o, w);
    return o;
}

static void test_full_flash(const char *dfu) {
    dfuflash_device *dev = NULL;
    dfuflash_image *img = NULL;
    CHECK(dfuflash_open_simulated("stm32h743-revv", NULL, -1, &dev) == DFUFLASH_OK, "open");
    CHECK(dfuflash_image_load(dfu, 0, false, 0, &img) == DFUFLASH_OK, "load %s", dfu);
    if (!dev || !img) return;
    uint8_t alt = 99;
    size_t nseg = 0, len = 0;
    uint32_t addr = 0;
    const uint8_t *data = NULL;
    CHECK(dfuflash_image_target_count(img) == 1, "one target");
    CHECK(dfuflash_image_target(img, 0, &alt, &nseg) == DFUFLASH_OK && alt == 0 && nseg == 1, "target 0");
    CHECK(dfuflash_image_segment(img, 0, 0, &addr, &data, &len) == DFUFLASH_OK && addr == 0x08040000u, "segment");

    struct watch w;
    watch_init(&w);
    dfuflash_options *o = options(&w);
    int rc = dfuflash_download(dev, img, o);
    CHECK(rc == DFUFLASH_OK, "download: %s", dfuflash_status_str(rc));
    CHECK(w.n_phases == 5 && w.phases[0] == DFUFLASH_PHASE_COMPARE && w.phases[1] == DFUFLASH_PHASE_ERASE &&
              w.phases[2] == DFUFLASH_PHASE_WRITE && w.phases[3] == DFUFLASH_PHASE_VERIFY &&
              w.phases[4] == DFUFLASH_PHASE_BOOT,
          "phases in order, the boot block last (%d phases)", w.n_phases);
    CHECK(w.ok && w.erase_k_ok, "progress monotonic with stable totals");
    CHECK(w.warns == 8, "8 workaround warnings, got %d", w.warns);

    dfuflash_report r = {.size = sizeof r};
    CHECK(dfuflash_device_report(dev, &r) == DFUFLASH_OK, "report");
    CHECK(r.bytes_verified == len, "verified %llu of %zu", (unsigned long long)r.bytes_verified, len);
    CHECK(r.sectors_erased_count == 14 && r.sectors_erased[0] == 0x08040000u, "14 sectors from 0x08040000");
    CHECK(r.workaround_sectors_count == 8, "8 workaround sectors, got %zu", r.workaround_sectors_count);
    CHECK(r.sectors_skipped_count == 0, "a blank device: no sector skipped, got %zu", r.sectors_skipped_count);
    if (r.workaround_sectors_count == 8) {
        for (size_t i = 0; i < 8; i++)
            CHECK(r.workaround_sectors[i] == 0x08100000u + (uint32_t)i * 0x20000u, "workaround sector %zu", i);
    }
    CHECK(r.device_busy_seconds > 12.0 && r.elapsed_seconds > r.device_busy_seconds, "simulated times");

    /* Read back across the 1 MB boundary and compare with the file. */
    size_t off = 0x08100000u - addr - 100;
    uint8_t back[4096];
    CHECK(dfuflash_upload(dev, NULL, 0x08100000u - 100, back, sizeof back) == DFUFLASH_OK, "upload");
    CHECK(memcmp(back, data + off, sizeof back) == 0, "uploaded bytes match the image");

    /* The same image again: every sector already holds it, so nothing is erased or written,
       and the comparison verified every byte. */
    watch_init(&w);
    rc = dfuflash_download(dev, img, o);
    CHECK(rc == DFUFLASH_OK, "unchanged download: %s", dfuflash_status_str(rc));
    CHECK(dfuflash_device_report(dev, &r) == DFUFLASH_OK, "report");
    CHECK(r.sectors_skipped_count == 14 && r.sectors_skipped[0] == 0x08040000u && r.sectors_skipped[13] == 0x081e0000u,
          "14 sectors skipped, got %zu", r.sectors_skipped_count);
    CHECK(r.sectors_erased_count == 0 && r.bytes_written == 0 && r.workaround_sectors_count == 0, "nothing erased or written");
    CHECK(r.bytes_verified == len, "compared %llu of %zu", (unsigned long long)r.bytes_verified, len);
    CHECK(w.n_phases == 3 && w.phases[0] == DFUFLASH_PHASE_COMPARE && w.phases[1] == DFUFLASH_PHASE_ERASE &&
              w.phases[2] == DFUFLASH_PHASE_WRITE,
          "compare, then empty erase and write phases (%d phases)", w.n_phases);

    /* The cancellations below need blocks to write: DFUFLASH_OPT_FULL writes every sector. */
    CHECK(dfuflash_options_set_flag(o, DFUFLASH_OPT_FULL, true) == DFUFLASH_OK, "full flag");

    /* Cancel from the callback: CANCELLED, device left idle, the next download works. */
    watch_init(&w);
    w.cancel_after_writes = 5;
    rc = dfuflash_download(dev, img, o);
    CHECK(rc == DFUFLASH_ERR_CANCELLED, "cancel from callback: %d", rc);
    CHECK(strstr(dfuflash_last_error(), "dfuIDLE") != NULL, "message says the device is idle: %s", dfuflash_last_error());

    /* Cancel from another thread. */
    watch_init(&w);
    w.dev = dev;
    pthread_t t;
    pthread_create(&t, NULL, canceller, &w);
    rc = dfuflash_download(dev, img, o);
    pthread_join(t, NULL);
    CHECK(w.cancelled == 1, "cancel call from the other thread succeeded");
    CHECK(rc == DFUFLASH_ERR_CANCELLED, "cancel from another thread: %d", rc);
    CHECK(w.writes == 1, "no block written after the cancel (%d progress events)", w.writes);

    watch_init(&w);
    rc = dfuflash_download(dev, img, o);
    CHECK(rc == DFUFLASH_OK, "download after cancellations: %d", rc);

    dfuflash_options_free(o);
    dfuflash_image_free(img);
    dfuflash_device_close(dev);
}

static void test_null_arguments(void) {
    dfuflash_device *dev = NULL;
    dfuflash_image *img = NULL;
    dfuflash_options *o = NULL;
    dfuflash_device_list *list = NULL;
    dfuflash_report r = {.size = sizeof r};
    uint8_t b[4];
    uint32_t a;
    size_t n;
    const uint8_t *p;
    CHECK(dfuflash_open_simulated(NULL, NULL, 0, &dev) == DFUFLASH_ERR_NULL_ARGUMENT, "model");
    CHECK(dfuflash_open_simulated("stm32f405", NULL, 0, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "out");
    CHECK(dfuflash_open(0, 0, NULL, NULL, -1, NULL, 0, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "open out");
    CHECK(dfuflash_image_load(NULL, 0, false, 0, &img) == DFUFLASH_ERR_NULL_ARGUMENT, "path");
    CHECK(dfuflash_image_load("x", 0, false, 0, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "img out");
    CHECK(dfuflash_image_from_memory(NULL, 4, 0, 0, &img) == DFUFLASH_ERR_NULL_ARGUMENT, "data");
    CHECK(dfuflash_image_target(NULL, 0, b, &n) == DFUFLASH_ERR_NULL_ARGUMENT, "target img");
    CHECK(dfuflash_image_segment(NULL, 0, 0, &a, &p, &n) == DFUFLASH_ERR_NULL_ARGUMENT, "segment img");
    CHECK(dfuflash_image_target_count(NULL) == 0, "count of NULL");
    CHECK(dfuflash_options_new(NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "options out");
    CHECK(dfuflash_options_set_flag(NULL, DFUFLASH_OPT_VERIFY, true) == DFUFLASH_ERR_NULL_ARGUMENT, "flag");
    CHECK(dfuflash_options_set_timeout_ms(NULL, DFUFLASH_TIMEOUT_ERASE, 1) == DFUFLASH_ERR_NULL_ARGUMENT, "timeout");
    CHECK(dfuflash_options_set_progress_callback(NULL, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "progress");
    CHECK(dfuflash_options_set_log_callback(NULL, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "log");
    CHECK(dfuflash_options_set_user_data(NULL, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "user data");
    CHECK(dfuflash_options_set_leave_address(NULL, 0) == DFUFLASH_ERR_NULL_ARGUMENT, "leave address");
    CHECK(dfuflash_erase(NULL, NULL, 0, 1, false) == DFUFLASH_ERR_NULL_ARGUMENT, "erase dev");
    CHECK(dfuflash_download(NULL, NULL, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "download");
    CHECK(dfuflash_upload(NULL, NULL, 0, b, 4) == DFUFLASH_ERR_NULL_ARGUMENT, "upload dev");
    CHECK(dfuflash_leave(NULL, 0, false) == DFUFLASH_ERR_NULL_ARGUMENT, "leave");
    CHECK(dfuflash_cancel(NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "cancel");
    CHECK(dfuflash_device_report(NULL, &r) == DFUFLASH_ERR_NULL_ARGUMENT, "report");
    CHECK(dfuflash_device_set_sim_faults(NULL, "stall@1") == DFUFLASH_ERR_NULL_ARGUMENT, "faults");
    CHECK(dfuflash_device_list_new(0, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "list out");
    CHECK(dfuflash_device_list_get(NULL, 0, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "list get");
    CHECK(dfuflash_device_list_count(NULL) == 0, "list count");
    CHECK(dfuflash_open_simulated("stm32f405", NULL, 0, &dev) == DFUFLASH_OK, "open");
    CHECK(dfuflash_download(dev, NULL, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "download img");
    CHECK(dfuflash_upload(dev, NULL, 0x08000000u, NULL, 4) == DFUFLASH_ERR_NULL_ARGUMENT, "upload buf");
    CHECK(dfuflash_device_report(dev, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "report out");
    CHECK(strstr(dfuflash_last_error(), "NULL") != NULL, "message names the NULL: %s", dfuflash_last_error());
    dfuflash_device_close(dev);
    /* Freeing NULL is a no-op; every status number gets a string. */
    dfuflash_device_close(NULL);
    dfuflash_image_free(NULL);
    dfuflash_options_free(NULL);
    dfuflash_device_list_free(NULL);
    (void)o;
    (void)list;
    CHECK(strcmp(dfuflash_status_str(-12345), "unknown status code") == 0, "unknown code");
    CHECK(strcmp(dfuflash_status_str(DFUFLASH_ERR_CANCELLED), "cancelled") == 0, "cancelled");
    CHECK(strcmp(dfuflash_status_str(DFUFLASH_OK), "ok") == 0, "ok");
}

static void test_panic_is_contained(void) {
    dfuflash_device *dev = NULL;
    dfuflash_image *img = NULL;
    uint8_t fw[1024];
    memset(fw, 0x5a, sizeof fw);
    CHECK(dfuflash_open_simulated("stm32h743-revy", NULL, 0, &dev) == DFUFLASH_OK, "open");
    CHECK(dfuflash_image_from_memory(fw, sizeof fw, 0x08020000u, 0, &img) == DFUFLASH_OK, "image");
    CHECK(dfuflash_device_set_sim_faults(dev, "panic@3") == DFUFLASH_OK, "arm the panic");
    int rc = dfuflash_download(dev, img, NULL);
    CHECK(rc == DFUFLASH_ERR_PANIC, "panic comes back as DFUFLASH_ERR_PANIC: %d", rc);
    CHECK(strstr(dfuflash_last_error(), "panic") != NULL, "message: %s", dfuflash_last_error());
    /* The same handle is usable: the lock is recovered and the device brought back to dfuIDLE. */
    rc = dfuflash_download(dev, img, NULL);
    CHECK(rc == DFUFLASH_OK, "flash on the same handle after a contained panic: %d", rc);
    uint8_t back[sizeof fw];
    CHECK(dfuflash_upload(dev, NULL, 0x08020000u, back, sizeof back) == DFUFLASH_OK, "read back");
    CHECK(memcmp(back, fw, sizeof fw) == 0, "the flash after the panic wrote the image");
    dfuflash_device_close(dev);
    /* The library still works. */
    CHECK(dfuflash_open_simulated("stm32h743-revy", NULL, 0, &dev) == DFUFLASH_OK, "open again");
    CHECK(dfuflash_download(dev, img, NULL) == DFUFLASH_OK, "flash after a contained panic");
    CHECK(dfuflash_device_set_sim_faults(dev, "bogus@1") == DFUFLASH_ERR_INVALID_ARGUMENT, "bad fault spec");
    dfuflash_image_free(img);
    dfuflash_device_close(dev);
}

struct job {
    const char *model;
    uint32_t address;
    int rc;
    uint64_t verified;
};

static void *flash_job(void *arg) {
    struct job *j = arg;
    dfuflash_device *dev = NULL;
    dfuflash_image *img = NULL;
    static uint8_t fw[2][200000];
    uint8_t *data = fw[j->address == 0x08000000u];
    for (size_t i = 0; i < sizeof fw[0]; i++) data[i] = (uint8_t)(i * 31 + j->address);
    j->rc = dfuflash_open_simulated(j->model, NULL, 0, &dev);
    if (j->rc == DFUFLASH_OK) j->rc = dfuflash_image_from_memory(data, sizeof fw[0], j->address, 0, &img);
    if (j->rc == DFUFLASH_OK) j->rc = dfuflash_download(dev, img, NULL);
    dfuflash_report r = {.size = sizeof r};
    if (j->rc == DFUFLASH_OK && dfuflash_device_report(dev, &r) == DFUFLASH_OK) j->verified = r.bytes_verified;
    dfuflash_image_free(img);
    dfuflash_device_close(dev);
    return NULL;
}

static void test_two_threads(void) {
    struct job a = {"stm32h743-revv", 0x080e0000u, -1, 0}, b = {"stm32f405", 0x08000000u, -1, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, flash_job, &a);
    pthread_create(&tb, NULL, flash_job, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.rc == DFUFLASH_OK && a.verified == 200000, "thread a: %d, %llu verified", a.rc, (unsigned long long)a.verified);
    CHECK(b.rc == DFUFLASH_OK && b.verified == 200000, "thread b: %d, %llu verified", b.rc, (unsigned long long)b.verified);
}

static void test_discovery_and_selection(void) {
    dfuflash_device_list *list = NULL;
    CHECK(dfuflash_device_list_new(DFUFLASH_LIST_SIMULATED, &list) == DFUFLASH_OK, "list");
    size_t n = dfuflash_device_list_count(list);
    CHECK(n == 22, "22 simulated devices, got %zu", n);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        dfuflash_device_desc d = {.size = sizeof d};
        if (dfuflash_device_list_get(list, i, &d) != DFUFLASH_OK) continue;
        if (d.path && strcmp(d.path, "sim:gd32vf103") == 0) {
            /* dfu-util's quirks, applied: the layout from the part number, said in quirks. */
            CHECK(d.quirks && strstr(d.quirks, "gd32vf103-layout: part 3CBJ has 128 pages of 1 KB"), "gd32 quirks: %s",
                  d.quirks ? d.quirks : "(null)");
            dfuflash_alt_desc g = {.size = sizeof g};
            CHECK(dfuflash_device_list_alt(list, i, 0, &g) == DFUFLASH_OK && g.sector_count == 128, "gd32 pages");
        } else if (d.path && strcmp(d.path, "sim:bogus-poll") == 0) {
            /* Openmoko's ids: its bwPollTimeout is ignored. */
            CHECK(d.quirks && strstr(d.quirks, "ignore-poll-timeout"), "bogus-poll quirks: %s",
                  d.quirks ? d.quirks : "(null)");
        } else {
            CHECK(d.quirks == NULL, "no quirks on %s", d.path ? d.path : "?");
        }
        if (d.path && strcmp(d.path, "sim:stm32h743-revv") == 0) {
            found = 1;
            CHECK(d.vendor_id == 0x0483 && d.product_id == 0xdf11 && d.simulated, "ids");
            CHECK(d.transfer_size == 1024 && d.dfu_version == 0x011a && d.mode == DFUFLASH_MODE_DFU, "functional");
            CHECK(d.serial && strcmp(d.serial, "200364500000") == 0, "the H7 ROM serial");
            CHECK(d.alt_count == 4, "4 alt settings");
            dfuflash_alt_desc a = {.size = sizeof a};
            CHECK(dfuflash_device_list_alt(list, i, 0, &a) == DFUFLASH_OK && a.has_layout && a.sector_count == 16, "alt 0 layout");
            CHECK(strncmp(a.name, "@Internal Flash", 15) == 0, "alt 0 name %s", a.name);
            uint32_t addr = 0, size = 0;
            uint8_t perms = 0;
            CHECK(dfuflash_device_list_sector(list, i, 0, 8, &addr, &size, &perms) == DFUFLASH_OK && addr == 0x08100000u &&
                      size == 131072 && perms == 7,
                  "sector 8");
            CHECK(dfuflash_device_list_alt(list, i, 9, &a) == DFUFLASH_ERR_INVALID_ARGUMENT, "alt out of range");
        }
    }
    CHECK(found, "sim:stm32h743-revv listed");
    CHECK(dfuflash_device_list_get(list, 99, NULL) == DFUFLASH_ERR_INVALID_ARGUMENT, "index out of range");
    dfuflash_device_list_free(list);

    dfuflash_device *dev = NULL;
    int rc = dfuflash_open(0x0483, 0xdf11, NULL, NULL, -1, NULL, DFUFLASH_LIST_SIMULATED, &dev);
    CHECK(rc == DFUFLASH_ERR_AMBIGUOUS_DEVICE && dev == NULL, "ambiguous: %d", rc);
    CHECK(strstr(dfuflash_last_error(), "sim:stm32f405") != NULL, "candidates listed: %s", dfuflash_last_error());
    rc = dfuflash_open(0x0483, 0xdf11, NULL, NULL, -1, NULL, 0, &dev);
    CHECK(rc == DFUFLASH_ERR_DEVICE_NOT_FOUND, "no real devices here: %d", rc);
    rc = dfuflash_open(0, 0, NULL, "sim:stm32f405", -1, "@Option Bytes", DFUFLASH_LIST_SIMULATED, &dev);
    CHECK(rc == DFUFLASH_OK, "open by path and alt name: %d", rc);
    /* Alt 1 (option bytes) is open: reading the 16 option bytes works. */
    uint8_t ob[16];
    CHECK(dfuflash_upload(dev, NULL, 0x1fffc000u, ob, sizeof ob) == DFUFLASH_OK, "read option bytes");
    dfuflash_device_close(dev);
}

static void test_refusals(void) {
    dfuflash_device *dev = NULL;
    dfuflash_image *img = NULL;
    uint8_t fw[64] = {0};
    CHECK(dfuflash_image_load("/nonexistent/fw.hex", 0, false, 0, &img) == DFUFLASH_ERR_FILE_IO, "missing file");
    CHECK(dfuflash_open_simulated("nosuch", NULL, 0, &dev) == DFUFLASH_ERR_SIMULATOR, "unknown model");
    CHECK(dfuflash_open_simulated("stm32h743-revv", NULL, 0, &dev) == DFUFLASH_OK, "open");
    CHECK(dfuflash_image_from_memory(fw, sizeof fw, 0x081fffe0u, 0, &img) == DFUFLASH_OK, "image");
    int rc = dfuflash_download(dev, img, NULL);
    CHECK(rc == DFUFLASH_ERR_OUTSIDE_LAYOUT, "outside the layout: %d", rc);
    CHECK(strstr(dfuflash_last_error(), "0x08200000") != NULL, "names the address: %s", dfuflash_last_error());
    dfuflash_options *o = NULL;
    dfuflash_options_new(&o);
    CHECK(dfuflash_options_set_flag(o, 99, true) == DFUFLASH_ERR_INVALID_ARGUMENT, "unknown flag");
    CHECK(dfuflash_options_set_timeout_ms(o, DFUFLASH_TIMEOUT_ERASE, 0) == DFUFLASH_ERR_INVALID_ARGUMENT, "0 ms");
    /* Without workarounds the Rev V erase past 1 MB fails within the erase deadline. */
    dfuflash_options_set_flag(o, DFUFLASH_OPT_WORKAROUNDS, false);
    rc = dfuflash_erase(dev, o, 0x08100000u, 1, false);
    CHECK(rc == DFUFLASH_ERR_STUCK_BUSY, "stuck busy without workarounds: %d", rc);
    dfuflash_options_free(o);
    dfuflash_image_free(img);
    dfuflash_device_close(dev);
}

static void test_abi(void) {
    CHECK((dfuflash_abi_version() >> 16) == DFUFLASH_ABI_MAJOR, "abi major");
    const dfuflash_api *api = dfuflash_get_api(DFUFLASH_ABI_MAJOR);
    CHECK(api != NULL && api->size == sizeof(dfuflash_api), "api table size");
    CHECK(dfuflash_get_api(DFUFLASH_ABI_MAJOR + 1) == NULL, "unsupported major");
    CHECK(api && api->download == dfuflash_download, "table entries are the functions");
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", DFUFLASH_VERSION_MAJOR, DFUFLASH_VERSION_MINOR, DFUFLASH_VERSION_PATCH);
    CHECK(strcmp(v, dfuflash_version()) == 0, "version %s", dfuflash_version());
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_api FILE.dfu\n");
        return 2;
    }
    test_abi();
    test_null_arguments();
    test_full_flash(argv[1]);
    test_panic_is_contained();
    test_two_threads();
    test_discovery_and_selection();
    test_refusals();
    test_codes_and_queries();
    test_header_contract(argv[1]);
    printf("c api: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
