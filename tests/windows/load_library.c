/* How an MSVC-built IDE uses the mingw-built DLL: no import library, no link against dfuflash,
 * only LoadLibrary and GetProcAddress("dfuflash_get_api"), then every call through the table.
 *
 *   load_library PATH\dfuflash.dll
 *
 * Flashes 300 KB onto a simulated H7 Rev V across the 1 MB boundary and checks the report;
 * prints "load_library: ok ..." and exits 0, or says what failed and exits 1. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

#include "dfuflash.h"

typedef const dfuflash_api *(*get_api_fn)(uint32_t);

#define FAIL(...) do { printf("load_library: "); printf(__VA_ARGS__); printf("\n"); return 1; } while (0)

int main(int argc, char **argv) {
    if (argc != 2) FAIL("usage: load_library PATH\\dfuflash.dll");
    HMODULE lib = LoadLibraryA(argv[1]);
    if (!lib) FAIL("LoadLibrary(%s) failed: error %lu", argv[1], GetLastError());
    get_api_fn get_api = (get_api_fn)(void (*)(void))GetProcAddress(lib, "dfuflash_get_api");
    if (!get_api) FAIL("no dfuflash_get_api in %s", argv[1]);
    const dfuflash_api *api = get_api(DFUFLASH_ABI_MAJOR);
    if (!api || api->size < sizeof(dfuflash_api)) FAIL("the DLL does not implement ABI %d", DFUFLASH_ABI_MAJOR);
    if (get_api(DFUFLASH_ABI_MAJOR + 1) != NULL) FAIL("a future ABI major was accepted");

    dfuflash_device *dev = NULL;
    int32_t rc = api->open_simulated("stm32h743-revv", NULL, -1, &dev);
    if (rc != DFUFLASH_OK) FAIL("open_simulated: %s (%s)", api->status_str(rc), api->last_error());
    size_t len = 300 * 1024;
    uint8_t *fw = malloc(len);
    for (size_t i = 0; i < len; i++) fw[i] = (uint8_t)(i * 7 + i / 253);
    dfuflash_image *img = NULL;
    rc = api->image_from_memory(fw, len, 0x080c0000u, 0, &img);
    if (rc != DFUFLASH_OK) FAIL("image_from_memory: %s", api->last_error());
    rc = api->download(dev, img, NULL);
    if (rc != DFUFLASH_OK) FAIL("download: %s (%s)", api->status_str(rc), api->last_error());
    dfuflash_report r = {.size = sizeof r};
    rc = api->device_report(dev, &r);
    if (rc != DFUFLASH_OK) FAIL("device_report: %s", api->last_error());
    if (r.bytes_verified != len) FAIL("verified %llu of %zu bytes", (unsigned long long)r.bytes_verified, len);
    if (r.workaround_sectors_count != 1 || r.workaround_sectors[0] != 0x08100000u)
        FAIL("expected the Rev V recovery on 0x08100000, got %zu sector(s)", r.workaround_sectors_count);
    /* Read back across the 1 MB boundary. */
    uint8_t back[4096];
    rc = api->upload(dev, NULL, 0x08100000u - 100, back, sizeof back);
    if (rc != DFUFLASH_OK) FAIL("upload: %s", api->last_error());
    for (size_t i = 0; i < sizeof back; i++)
        if (back[i] != fw[0x08100000u - 100 - 0x080c0000u + i]) FAIL("read back differs at byte %zu", i);
    printf("load_library: ok, library %s, ABI %u.%u, %llu bytes verified, Rev V recovery on 0x%08x\n",
           api->version(), api->abi_version >> 16, api->abi_version & 0xffff,
           (unsigned long long)r.bytes_verified, (unsigned)r.workaround_sectors[0]);
    api->image_free(img);
    api->device_close(dev);
    free(fw);
    FreeLibrary(lib);
    return 0;
}
