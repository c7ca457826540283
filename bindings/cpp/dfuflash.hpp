// dfuflash.hpp: header-only C++17 wrapper over the dfuflash C API.
//
// Move-only RAII classes own the C handles (std::unique_ptr with the C _free/_close as
// deleter). Operations return a Result carrying the status code and the library's message.
// Callbacks are std::function objects reached through noexcept trampolines: an exception a
// callback throws never unwinds into the library; it cancels the operation and is rethrown
// from the operation once the C call has returned. Factories throw dfuflash::Error.
#ifndef DFUFLASH_HPP
#define DFUFLASH_HPP

#include <dfuflash.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dfuflash {

/// The outcome of an operation: DFUFLASH_OK, or a code with the library's message.
struct Result {
    int32_t code = DFUFLASH_OK;
    std::string message;
    explicit operator bool() const noexcept { return code == DFUFLASH_OK; }
    static Result from(int32_t code) {
        if (code == DFUFLASH_OK) return {};
        const char *m = dfuflash_last_error();
        return {code, (m && *m) ? m : dfuflash_status_str(code)};
    }
};

/// Thrown by factories (open, load) that cannot return a Result.
struct Error : std::runtime_error {
    int32_t code;
    explicit Error(const Result &r) : std::runtime_error(r.message), code(r.code) {}
};

namespace detail {
template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};
inline void check(int32_t code) {
    if (code != DFUFLASH_OK) throw Error(Result::from(code));
}
}  // namespace detail

using Progress = dfuflash_progress;
using Report = dfuflash_report;
using TargetRecord = dfuflash_target_record;
using SegmentRecord = dfuflash_segment_record;

/// A row of the last FlashLayout.tsv flashed, with what was done with it (copied out of the
/// device, so it outlives the device's next operation).
struct Partition {
    std::string name;
    uint8_t id = 0;
    uint64_t bytes = 0;
    std::optional<uint32_t> crc32;           // none for an E row
    std::optional<uint32_t> readback_crc32;  // none where the device cannot read it back
    uint32_t downloads = 0;
    std::optional<uint8_t> alt;              // none when the device never asked for it
};

/// What the last Device::flash_layout did.
struct LayoutReport {
    std::vector<Partition> partitions;
    std::vector<uint8_t> phases;  // every phase the device reported, 0xFE last
    uint32_t reenumerations = 0;
    uint64_t requests = 0;
    double elapsed_seconds = 0;
    double wall_seconds = 0;
};

/// A firmware image.
class Image {
  public:
    /// A file of any supported format; a raw binary needs an address.
    static Image load(const std::string &path, std::optional<uint32_t> address = std::nullopt, uint8_t alt = 0) {
        dfuflash_image *p = nullptr;
        detail::check(dfuflash_image_load(path.c_str(), address.value_or(0), address.has_value(), alt, &p));
        return Image(p);
    }
    /// `data` (copied) at `address`.
    static Image from_bytes(const std::vector<uint8_t> &data, uint32_t address, uint8_t alt = 0) {
        dfuflash_image *p = nullptr;
        detail::check(dfuflash_image_from_memory(data.data(), data.size(), address, alt, &p));
        return Image(p);
    }
    size_t target_count() const noexcept { return dfuflash_image_target_count(h_.get()); }
    const dfuflash_image *get() const noexcept { return h_.get(); }

  private:
    explicit Image(dfuflash_image *p) : h_(p) {}
    std::unique_ptr<dfuflash_image, detail::Deleter<dfuflash_image, dfuflash_image_free>> h_;
};

/// Options of an operation, with callbacks. Keep it alive during the operation.
class Options {
  public:
    Options() {
        dfuflash_options *p = nullptr;
        detail::check(dfuflash_options_new(&p));
        h_.reset(p);
        state_ = std::make_unique<State>();
        dfuflash_options_set_user_data(p, state_.get());
        dfuflash_options_set_progress_callback(p, &progress_trampoline);
        dfuflash_options_set_log_callback(p, &log_trampoline);
    }
    Options &verify(bool on) { return flag(DFUFLASH_OPT_VERIFY, on); }
    Options &leave(bool on) { return flag(DFUFLASH_OPT_LEAVE, on); }
    Options &mass_erase(bool on) { return flag(DFUFLASH_OPT_MASS_ERASE, on); }
    Options &workarounds(bool on) { return flag(DFUFLASH_OPT_WORKAROUNDS, on); }
    Options &allow_option_bytes(bool on) { return flag(DFUFLASH_OPT_ALLOW_OPTION_BYTES, on); }
    Options &allow_otp(bool on) { return flag(DFUFLASH_OPT_ALLOW_OTP, on); }
    Options &check_suffix(bool on) { return flag(DFUFLASH_OPT_CHECK_SUFFIX, on); }
    Options &full(bool on) { return flag(DFUFLASH_OPT_FULL, on); }
    Options &boot_last(bool on) { return flag(DFUFLASH_OPT_BOOT_LAST, on); }
    /// The whole operation's deadline (DFUFLASH_TIMEOUT_JOB): past it, DFUFLASH_ERR_JOB_TIMEOUT.
    Options &job_timeout_ms(uint32_t ms) { return timeout_ms(DFUFLASH_TIMEOUT_JOB, ms); }
    /// Device::flash_layout: how long each new boot stage may take to appear.
    Options &reenumerate_timeout_ms(uint32_t ms) { return timeout_ms(DFUFLASH_TIMEOUT_REENUMERATE, ms); }
    Options &timeout_ms(int32_t which, uint32_t ms) {
        detail::check(dfuflash_options_set_timeout_ms(h_.get(), which, ms));
        return *this;
    }
    /// Return false to cancel.
    Options &on_progress(std::function<bool(const Progress &)> f) {
        state_->progress = std::move(f);
        return *this;
    }
    Options &on_log(std::function<void(int32_t level, const std::string &message)> f) {
        state_->log = std::move(f);
        return *this;
    }
    const dfuflash_options *get() const noexcept { return h_.get(); }

    /// Rethrows what a callback threw during the last operation, once.
    void rethrow_callback_exception() {
        if (state_->error) {
            std::exception_ptr e = std::exchange(state_->error, nullptr);
            std::rethrow_exception(e);
        }
    }

  private:
    struct State {
        std::function<bool(const Progress &)> progress;
        std::function<void(int32_t, const std::string &)> log;
        std::exception_ptr error;
    };
    static int32_t progress_trampoline(void *user, const dfuflash_progress *p) noexcept {
        auto *s = static_cast<State *>(user);
        if (s->error) return DFUFLASH_CANCEL;
        if (!s->progress) return DFUFLASH_CONTINUE;
        try {
            return s->progress(*p) ? DFUFLASH_CONTINUE : DFUFLASH_CANCEL;
        } catch (...) {
            s->error = std::current_exception();
            return DFUFLASH_CANCEL;
        }
    }
    static void log_trampoline(void *user, int32_t level, const char *message) noexcept {
        auto *s = static_cast<State *>(user);
        if (s->error || !s->log) return;
        try {
            s->log(level, message ? message : "");
        } catch (...) {
            s->error = std::current_exception();
        }
    }
    Options &flag(int32_t which, bool on) {
        detail::check(dfuflash_options_set_flag(h_.get(), which, on));
        return *this;
    }
    std::unique_ptr<dfuflash_options, detail::Deleter<dfuflash_options, dfuflash_options_free>> h_;
    std::unique_ptr<State> state_;
};

/// An open device: one thread at a time; cancel() from any thread.
class Device {
  public:
    /// The one device that matches (0 / empty match anything); alt -1 = default or `alt_name`.
    static Device open(uint16_t vid = 0, uint16_t pid = 0, const std::string &serial = "", const std::string &path = "",
                       int32_t alt = -1, const std::string &alt_name = "", uint32_t flags = 0) {
        dfuflash_device *p = nullptr;
        auto opt = [](const std::string &s) { return s.empty() ? nullptr : s.c_str(); };
        detail::check(dfuflash_open(vid, pid, opt(serial), opt(path), alt, opt(alt_name), flags, &p));
        return Device(p);
    }
    static Device open_simulated(const std::string &model, const std::string &state_file = "", int32_t alt = -1) {
        dfuflash_device *p = nullptr;
        detail::check(dfuflash_open_simulated(model.c_str(), state_file.empty() ? nullptr : state_file.c_str(), alt, &p));
        return Device(p);
    }
    Result download(const Image &img, Options &opts) {
        return finish(dfuflash_download(h_.get(), img.get(), opts.get()), opts);
    }
    Result download(const Image &img) { return Result::from(dfuflash_download(h_.get(), img.get(), nullptr)); }
    Result erase(uint32_t address, uint32_t length, Options &opts) {
        return finish(dfuflash_erase(h_.get(), opts.get(), address, length, false), opts);
    }
    Result mass_erase(Options &opts) { return finish(dfuflash_erase(h_.get(), opts.get(), 0, 0, true), opts); }
    Result upload(uint32_t address, std::vector<uint8_t> &out) {
        return Result::from(dfuflash_upload(h_.get(), nullptr, address, out.data(), out.size()));
    }
    Result leave(std::optional<uint32_t> address = std::nullopt) {
        return Result::from(dfuflash_leave(h_.get(), address.value_or(0), address.has_value()));
    }
    /// Flashes an ST FlashLayout.tsv through the serial-boot phase protocol; the board has left
    /// DFU mode after it. Read what it did with layout_report().
    Result flash_layout(const std::string &tsv_path, Options &opts) {
        return finish(dfuflash_flash_layout(h_.get(), tsv_path.c_str(), opts.get(), nullptr), opts);
    }
    Result flash_layout(const std::string &tsv_path) {
        return Result::from(dfuflash_flash_layout(h_.get(), tsv_path.c_str(), nullptr, nullptr));
    }
    /// The report of the last flash_layout, when that was the last operation that succeeded (a
    /// failed operation leaves the one before it; throws when there is none).
    LayoutReport layout_report() const {
        dfuflash_layout_report r{};
        r.size = sizeof r;
        detail::check(dfuflash_device_layout_report(h_.get(), &r));
        LayoutReport out;
        out.phases.assign(r.phases, r.phases + r.phase_count);
        out.reenumerations = r.reenumerations;
        out.requests = r.requests;
        out.elapsed_seconds = r.elapsed_seconds;
        out.wall_seconds = r.wall_seconds;
        for (size_t i = 0; i < r.partition_count; i++) {
            dfuflash_partition_record p{};
            p.size = sizeof p;
            detail::check(dfuflash_device_layout_partition(h_.get(), i, &p));
            Partition q;
            q.name = p.name ? p.name : "";
            q.id = p.id;
            q.bytes = p.bytes;
            if (p.has_crc32) q.crc32 = p.crc32;
            if (p.read_back) q.readback_crc32 = p.readback_crc32;
            q.downloads = p.downloads;
            if (p.alt >= 0) q.alt = static_cast<uint8_t>(p.alt);
            out.partitions.push_back(std::move(q));
        }
        return out;
    }
    Result set_sim_faults(const std::string &spec) {
        return Result::from(dfuflash_device_set_sim_faults(h_.get(), spec.c_str()));
    }
    /// Thread-safe.
    void cancel() const noexcept { dfuflash_cancel(h_.get()); }
    /// The last report; its arrays stay valid until the next operation on this device.
    Report report() const {
        Report r{};
        r.size = sizeof r;
        detail::check(dfuflash_device_report(h_.get(), &r));
        return r;
    }
    /// The last download's record: each target's SHA-256 (empty after other operations).
    std::vector<TargetRecord> targets() const {
        std::vector<TargetRecord> out(report().target_count);
        for (size_t i = 0; i < out.size(); i++) {
            out[i].size = sizeof out[i];
            detail::check(dfuflash_device_report_target(h_.get(), i, &out[i]));
        }
        return out;
    }
    /// The last download's record: each segment's CRC-32, and that of what was read back.
    std::vector<SegmentRecord> segments() const {
        std::vector<SegmentRecord> out(report().segment_count);
        for (size_t i = 0; i < out.size(); i++) {
            out[i].size = sizeof out[i];
            detail::check(dfuflash_device_report_segment(h_.get(), i, &out[i]));
        }
        return out;
    }
    std::vector<uint32_t> workaround_sectors() const {
        Report r = report();
        return {r.workaround_sectors, r.workaround_sectors + r.workaround_sectors_count};
    }
    /// Planned sectors the last download left alone because they already held the image.
    std::vector<uint32_t> sectors_skipped() const {
        Report r = report();
        return {r.sectors_skipped, r.sectors_skipped + r.sectors_skipped_count};
    }
    /// What the device is (strings owned by the device). Callable while an operation runs.
    dfuflash_device_desc info() const {
        dfuflash_device_desc d{};
        d.size = sizeof d;
        detail::check(dfuflash_device_info(h_.get(), &d));
        return d;
    }
    /// The alt setting operations use now.
    uint8_t current_alt() const {
        uint8_t alt = 0;
        detail::check(dfuflash_device_current_alt(h_.get(), &alt));
        return alt;
    }
    /// Selects another alt setting by number; images for another one are then refused.
    Result select_alt(uint8_t alt) { return Result::from(dfuflash_device_select_alt(h_.get(), alt, nullptr)); }
    /// Selects another alt setting by name, such as "@Option Bytes".
    Result select_alt(const std::string &name) {
        return Result::from(dfuflash_device_select_alt(h_.get(), -1, name.c_str()));
    }

  private:
    explicit Device(dfuflash_device *p) : h_(p) {}
    static Result finish(int32_t code, Options &opts) {
        Result r = Result::from(code);
        opts.rethrow_callback_exception();
        return r;
    }
    std::unique_ptr<dfuflash_device, detail::Deleter<dfuflash_device, dfuflash_device_close>> h_;
};

}  // namespace dfuflash

#endif  // DFUFLASH_HPP
