// The C++ wrapper against the simulator, compiled with -Wall -Wextra -Werror.
#include "dfuflash.hpp"

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

static int passed, failed;
#define CHECK(c)                                                                  \
    do {                                                                          \
        if (c) {                                                                  \
            passed++;                                                             \
        } else {                                                                  \
            failed++;                                                             \
            std::fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #c);            \
        }                                                                         \
    } while (0)

// zlib's CRC-32, bit by bit: the test's own, not the library's.
static uint32_t crc32(const std::vector<uint8_t> &data) {
    uint32_t c = 0xffffffffu;
    for (uint8_t b : data) {
        c ^= b;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static std::vector<uint8_t> read_file(const std::string &path) {
    std::vector<uint8_t> out;
    if (FILE *f = std::fopen(path.c_str(), "rb")) {
        int c;
        while ((c = std::fgetc(f)) != EOF) out.push_back(static_cast<uint8_t>(c));
        std::fclose(f);
    }
    return out;
}

// Issue 25: OpenMV's N6 layout in DIR (written by tests/c_api.rs), on a board kept in STATE.
static void flash_layout(const std::string &dir, const std::string &state) {
    const std::string tsv = dir + "/FlashLayout.tsv";
    {
        // A callback that throws cancels the layout and is rethrown here.
        auto dev = dfuflash::Device::open_simulated("stm32n6");
        dfuflash::Options opts;
        opts.on_progress([](const dfuflash::Progress &p) -> bool {
            if (p.done > 0) throw std::runtime_error("stop");
            return true;
        });
        bool rethrown = false;
        try {
            dev.flash_layout(tsv, opts);
        } catch (const std::runtime_error &e) {
            rethrown = std::strcmp(e.what(), "stop") == 0;
        }
        CHECK(rethrown);
        auto bad = dev.flash_layout(dir + "/nosuch.tsv");
        CHECK(bad.code == DFUFLASH_ERR_FILE_IO && bad.message.find("nosuch.tsv: cannot read") != std::string::npos);
    }
    auto dev = dfuflash::Device::open_simulated("stm32n6", state);
    bool threw = false;
    try {
        dev.layout_report();
    } catch (const dfuflash::Error &e) {
        threw = e.code == DFUFLASH_ERR_INVALID_ARGUMENT;
    }
    CHECK(threw);
    dfuflash::Options opts;
    uint64_t written = 0;
    int logs = 0;
    opts.reenumerate_timeout_ms(5000)
        .on_progress([&](const dfuflash::Progress &p) {
            if (p.done == p.total) written += p.total;
            return true;
        })
        .on_log([&](int32_t, const std::string &) { logs++; });
    CHECK(dev.flash_layout(tsv, opts));
    auto r = dev.layout_report();
    CHECK((r.phases == std::vector<uint8_t>{0x01, 0x00, 0x00, 0x00, 0x03, 0x03, 0x04, 0x04, 0xfe}));
    CHECK(r.reenumerations == 1 && r.requests == dev.report().requests && logs > 0);
    const char *names[] = {"fsbl-openbl", "fsbl-extfl", "fsbl-app"};
    const char *files[] = {"obl.stm32", "loader.bin", "bootloader.bin"};
    const uint8_t ids[] = {0x01, 0x03, 0x04};
    CHECK(r.partitions.size() == 3);
    uint64_t sent = 0;
    for (size_t i = 0; i < r.partitions.size() && i < 3; i++) {
        const auto &p = r.partitions[i];
        auto data = read_file(dir + "/" + files[i]);
        sent += data.size();
        CHECK(p.name == names[i] && p.id == ids[i] && p.bytes == data.size() && !data.empty());
        CHECK(p.crc32 == crc32(data) && !p.readback_crc32 && p.downloads == 1 && p.alt == static_cast<uint8_t>(i));
    }
    // The partitions and the layout itself (its 256-byte header and rows).
    CHECK(written > sent + 256 && written < sent + 512);
}

int main(int argc, char **argv) {
    if (argc == 3) flash_layout(argv[1], argv[2]);
    std::vector<uint8_t> fw(0x60000);
    for (size_t i = 0; i < fw.size(); i++) fw[i] = static_cast<uint8_t>(i * 7 + (i >> 9));
    auto image = dfuflash::Image::from_bytes(fw, 0x080c0000);
    auto dev = dfuflash::Device::open_simulated("stm32h743-revv");

    // A full flash with progress and log callbacks.
    int phases_seen = 0, last_phase = 0, warnings = 0;
    bool monotonic = true;
    uint64_t last_done = 0;
    dfuflash::Options opts;
    opts.on_progress([&](const dfuflash::Progress &p) {
        if (p.phase != last_phase) {
            phases_seen++;
            last_phase = p.phase;
            last_done = 0;
        }
        if (p.done < last_done) monotonic = false;
        last_done = p.done;
        return true;
    });
    opts.on_log([&](int32_t level, const std::string &m) {
        if (level == DFUFLASH_LOG_WARN && m.find("Rev V") != std::string::npos) warnings++;
    });
    dfuflash::Result r = dev.download(image, opts);
    CHECK(r);
    CHECK(phases_seen == 5 && monotonic);  // compare, erase, write, verify, boot block last
    CHECK(warnings == 1);
    CHECK(dev.report().bytes_verified == fw.size());
    CHECK(dev.workaround_sectors() == std::vector<uint32_t>{0x08100000u});
    std::vector<uint8_t> back(256);
    CHECK(dev.upload(0x08100000u, back));
    CHECK(std::memcmp(back.data(), fw.data() + 0x40000, back.size()) == 0);

    // The same image again: every sector is found unchanged and left alone.
    CHECK(dev.download(image));
    CHECK(dev.report().bytes_written == 0 && dev.report().bytes_verified == fw.size());
    CHECK(dev.sectors_skipped() == (std::vector<uint32_t>{0x080c0000u, 0x080e0000u, 0x08100000u}));
    // Its record: the compare read every byte back.
    CHECK(dev.report().sectors_planned == 3);
    auto segments = dev.segments();
    CHECK(segments.size() == 1 && segments[0].address == 0x080c0000u && segments[0].length == fw.size());
    CHECK(segments.size() == 1 && segments[0].crc32 == crc32(fw) && segments[0].read_back &&
          segments[0].readback_crc32 == segments[0].crc32);
    auto targets = dev.targets();
    CHECK(targets.size() == 1 && targets[0].alt == 0 && targets[0].bytes == fw.size());

    // A callback that throws: caught by the trampoline, the flash is cancelled, the exception
    // comes back here once the C call has returned. (full: blocks are written even though the
    // device already holds the image.)
    dfuflash::Options throwing;
    throwing.full(true);
    throwing.on_progress([](const dfuflash::Progress &p) -> bool {
        if (p.phase == DFUFLASH_PHASE_WRITE && p.done > 0) throw std::runtime_error("boom");
        return true;
    });
    bool caught = false;
    try {
        dev.download(image, throwing);
    } catch (const std::runtime_error &e) {
        caught = std::string(e.what()) == "boom";
    }
    CHECK(caught);
    CHECK(dev.download(image));  // the device was left idle and usable

    // Cancel from another thread through the thread-safe cancel().
    dfuflash::Options slow;
    slow.full(true);
    slow.on_progress([&](const dfuflash::Progress &p) {
        if (p.phase == DFUFLASH_PHASE_WRITE && p.done > 0) {
            std::thread([&] { dev.cancel(); }).join();
        }
        return true;
    });
    r = dev.download(image, slow);
    CHECK(r.code == DFUFLASH_ERR_CANCELLED);
    CHECK(r.message.find("dfuIDLE") != std::string::npos);

    // Results carry code and message; factories throw.
    auto outside = dfuflash::Image::from_bytes(std::vector<uint8_t>(64), 0x081ffff0);
    r = dev.download(outside);
    CHECK(r.code == DFUFLASH_ERR_OUTSIDE_LAYOUT && r.message.find("0x08200000") != std::string::npos);
    bool threw = false;
    try {
        dfuflash::Device::open_simulated("nosuch");
    } catch (const dfuflash::Error &e) {
        threw = e.code == DFUFLASH_ERR_SIMULATOR;
    }
    CHECK(threw);

    // What the open device is, and another alt setting on the same handle.
    CHECK(dev.info().vendor_id == 0x0483 && dev.info().alt_count == 4);
    CHECK(dev.current_alt() == 0);
    CHECK(dev.select_alt("@Option Bytes") && dev.current_alt() == 1);
    CHECK(dev.select_alt(9).code == DFUFLASH_ERR_NO_SUCH_ALT);
    CHECK(dev.download(image).code == DFUFLASH_ERR_ALT_MISMATCH);
    CHECK(dev.select_alt(0));

    // Move-only handles.
    dfuflash::Device moved = std::move(dev);
    CHECK(moved.download(image));
    // Issue 26: OpenMV's bootloader, partitions chosen by name; the read past the 128 KB
    // FILESYSTEM's end gets the 4-byte end frame, whose zeros are data.
    {
        auto cam = dfuflash::Device::open_simulated("openmv-h7p");
        CHECK(cam.select_alt("FIRMWARE") && cam.current_alt() == 2);
        std::vector<uint8_t> app(10000);
        for (size_t i = 0; i < app.size(); i++) app[i] = static_cast<uint8_t>(i * 13 + 1);
        CHECK(cam.download(dfuflash::Image::from_bytes(app, 0, 2)));
        CHECK(cam.report().bytes_verified == app.size());
        CHECK(cam.select_alt("ROMFS0") && cam.current_alt() == 4);
        CHECK(cam.download(dfuflash::Image::from_bytes(app, 0, 4)));
        std::vector<uint8_t> fs(128 * 1024 + 4);
        CHECK(cam.select_alt("FILESYSTEM") && cam.upload(0, fs));
        CHECK(fs[128 * 1024 - 1] == 0xff && fs[128 * 1024] == 0 && fs[128 * 1024 + 3] == 0);
    }
    std::printf("c++ wrapper: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
