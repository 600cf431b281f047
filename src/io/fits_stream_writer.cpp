#include "io/fits_stream_writer.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "io/atomic_file.hpp"
#include "io/detail/cfitsio_handle.hpp"
#include "io/fits_card.hpp"
#include "io/detail/fits_hdu_write.hpp"

namespace zm {
namespace {

std::string upper_trimmed(std::string_view key) {
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  std::string k(key);
  for (char& c : k) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return k;
}

const char* type_name(FitsPixelType t) { return t == FitsPixelType::UInt8 ? "uint8" : "float32"; }

// The HDU being written and which of its rows (per channel) have arrived.
struct HduProgress {
  int index = 0;  // 0 = primary, k = extension k
  std::string extname;
  FitsPixelType type = FitsPixelType::Float32;
  int width = 0;
  int height = 0;
  int channels = 1;
  std::vector<std::uint8_t> row_done;  // channels x height flags: the only per-image state, O(rows)
  long long missing = 0;

  HduProgress() = default;
  HduProgress(int idx, std::string name, FitsPixelType t, int w, int h, int c, bool complete)
      : index(idx), extname(std::move(name)), type(t), width(w), height(h), channels(c) {
    if (complete) return;
    missing = static_cast<long long>(c) * h;
    row_done.assign(static_cast<std::size_t>(missing), 0);
  }

  std::string describe() const {
    if (index == 0) return "the primary HDU";
    return "extension " + std::to_string(index) + " '" + extname + "' (" + type_name(type) + ")";
  }
};

struct PendingCard {
  int hdu = 0;
  FitsCard card;
};

template <class S>
S& live(const std::unique_ptr<S>& s) {
  if (!s) throw std::logic_error("FitsStreamWriter used after move");
  return *s;
}

void check_dimensions(const std::filesystem::path& path, const std::string& what, int width, int height) {
  if (width < 1 || height < 1)
    throw std::invalid_argument(path.string() + ": " + what + " needs width and height >= 1, got " +
                                std::to_string(width) + " x " + std::to_string(height));
}

}  // namespace

struct FitsStreamWriter::State {
  enum class Phase { Open, Committed, Abandoned };

  std::filesystem::path path;
  FitsStreamOptions options;
  std::optional<AtomicOutput> out;
  FitsFilePtr file;  // after `out`: closed before the temp file is removed
  HduProgress hdu;
  int hdu_count = 0;
  std::vector<PendingCard> pending;
  Phase phase = Phase::Open;
  std::string abandon_reason;

  ~State() { discard(); }

  void discard() noexcept {
    discard_fits(file);
    out.reset();  // removes the temp file unless committed
  }

  [[noreturn]] void misuse(const std::string& what) const { throw std::logic_error(path.string() + ": " + what); }

  void require_open(const char* op) const {
    if (phase == Phase::Committed) misuse(std::string(op) + " after commit()");
    if (phase == Phase::Abandoned)
      misuse(std::string(op) + ": the writer was abandoned after an earlier error (" + abandon_reason + ")");
  }

  // Runs `body`; any exception abandons the file so no half-written temp outlives the error.
  template <class Body>
  void run(const char* op, Body&& body) {
    require_open(op);
    try {
      body();
    } catch (const std::exception& e) {
      abandon(e.what());
      throw;
    } catch (...) {
      abandon("unknown exception");
      throw;
    }
  }

  void abandon(std::string reason) noexcept {
    phase = Phase::Abandoned;
    abandon_reason = std::move(reason);
    discard();
  }

  void reserve_header_space() {
    int status = 0;
    fits_set_hdrsize(file.get(), std::max(options.reserve_cards, 0), &status);
    fitswrite::check(status, *out, "cannot reserve header space");
  }

  void require_complete(const std::string& next) const {
    if (hdu.missing == 0) return;
    misuse("cannot " + next + ": " + hdu.describe() + " still misses " + std::to_string(hdu.missing) + " of " +
           std::to_string(static_cast<long long>(hdu.channels) * hdu.height) +
           " rows (every row of an HDU must be written before the next HDU or commit())");
  }

  void check_band(FitsPixelType type, int channel0, int nchannels, int row0, int nrows, std::size_t size) const {
    if (type != hdu.type)
      misuse("cannot write " + std::string(type_name(type)) + " rows: " + hdu.describe() + " is in progress");
    if (channel0 < 0 || channel0 + nchannels > hdu.channels)
      throw std::out_of_range(path.string() + ": channel " + std::to_string(channel0) + " outside the " +
                              std::to_string(hdu.channels) + " channel(s) of " + hdu.describe());
    if (row0 < 0 || nrows < 0 || static_cast<long long>(row0) + nrows > hdu.height)
      throw std::out_of_range(path.string() + ": rows [" + std::to_string(row0) + ", " +
                              std::to_string(static_cast<long long>(row0) + nrows) + ") outside the height " +
                              std::to_string(hdu.height) + " of " + hdu.describe());
    std::size_t want = static_cast<std::size_t>(nchannels) * static_cast<std::size_t>(nrows) *
                       static_cast<std::size_t>(hdu.width);
    if (size != want)
      throw std::invalid_argument(path.string() + ": a band of " + std::to_string(nchannels) + " channel(s) x " +
                                  std::to_string(nrows) + " rows x " + std::to_string(hdu.width) + " columns of " +
                                  hdu.describe() + " needs " + std::to_string(want) + " values, got " +
                                  std::to_string(size));
  }

  // Each channel's rows are contiguous in the file: one cfitsio call per channel.
  void write_band(FitsPixelType type, int channel0, int nchannels, int row0, int nrows, const void* data,
                  std::size_t size) {
    check_band(type, channel0, nchannels, row0, nrows, size);
    int datatype = type == FitsPixelType::UInt8 ? TBYTE : TFLOAT;
    std::size_t elem = type == FitsPixelType::UInt8 ? 1 : sizeof(float);
    std::size_t n = static_cast<std::size_t>(nrows) * static_cast<std::size_t>(hdu.width);
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (int k = 0; k < nchannels && n > 0; ++k) {
      LONGLONG first = 1 + (static_cast<LONGLONG>(channel0 + k) * hdu.height + row0) * hdu.width;
      fitswrite::write_pixels(file.get(), datatype, first, n, bytes + static_cast<std::size_t>(k) * n * elem, *out);
    }
    mark_rows(channel0, nchannels, row0, nrows);
  }

  void mark_rows(int channel0, int nchannels, int row0, int nrows) {
    for (int c = channel0; c < channel0 + nchannels; ++c) {
      auto first = hdu.row_done.begin() + static_cast<std::ptrdiff_t>(c) * hdu.height + row0;
      for (auto it = first; it != first + nrows; ++it) {
        hdu.missing -= *it == 0;
        *it = 1;
      }
    }
  }

  void queue_card(int target, std::string_view key, FitsCard::Value value, std::string_view comment) {
    std::string k = upper_trimmed(key);
    bool commentary = k == "HISTORY" || k == "COMMENT";
    if (commentary && !std::holds_alternative<std::string>(value))
      throw std::invalid_argument(path.string() + ": " + k + " needs a string value");
    if (!commentary && (!fitscard::is_standard_key(k) || is_structural_key(k) || k == "CONTINUE"))
      throw std::invalid_argument(path.string() + ": set_key cannot write '" + k +
                                  "': structural keys are the writer's, and keys must be 1-8 of A-Z 0-9 _ -");
    pending.push_back(PendingCard{target, FitsCard{std::move(k), std::move(value), std::string(comment)}});
  }

  void apply_pending() {
    for (const PendingCard& p : pending) {
      int status = 0;
      fits_movabs_hdu(file.get(), p.hdu + 1, nullptr, &status);
      fitswrite::check(status, *out, "cannot move to HDU " + std::to_string(p.hdu + 1));
      fitswrite::update_card(file.get(), p.card, *out);
    }
    pending.clear();
  }
};

FitsStreamWriter::FitsStreamWriter(std::filesystem::path path, int width, int height, int channels,
                                   const FitsHeader& header, const FitsStreamOptions& options)
    : s_(std::make_unique<State>()) {
  State& s = *s_;
  s.path = std::move(path);
  s.options = options;
  check_dimensions(s.path, "FitsStreamWriter", width, height);
  if (channels < 1)
    throw std::invalid_argument(s.path.string() + ": FitsStreamWriter needs channels >= 1, got " +
                                std::to_string(channels));
  s.run("FitsStreamWriter", [&] {
    s.out.emplace(s.path);
    s.file = fitswrite::create_fits(*s.out);
    std::array<LONGLONG, 3> naxes = {width, height, channels};
    fitswrite::create_image(s.file.get(), FLOAT_IMG, std::span(naxes.data(), channels == 1 ? 2 : 3), *s.out);
    fitswrite::write_header_cards(s.file.get(), header, *s.out);
    s.reserve_header_space();
    s.hdu = HduProgress(0, {}, FitsPixelType::Float32, width, height, channels, false);
    s.hdu_count = 1;
  });
}

FitsStreamWriter::~FitsStreamWriter() = default;
FitsStreamWriter::FitsStreamWriter(FitsStreamWriter&&) noexcept = default;
FitsStreamWriter& FitsStreamWriter::operator=(FitsStreamWriter&&) noexcept = default;

void FitsStreamWriter::write_rows(int row0, int nrows, std::span<const float> data) {
  State& s = live(s_);
  s.run("write_rows", [&] {
    s.write_band(FitsPixelType::Float32, 0, s.hdu.channels, row0, nrows, data.data(), data.size());
  });
}

void FitsStreamWriter::write_rows(int row0, int nrows, std::span<const std::uint8_t> data) {
  State& s = live(s_);
  s.run("write_rows", [&] {
    s.write_band(FitsPixelType::UInt8, 0, s.hdu.channels, row0, nrows, data.data(), data.size());
  });
}

void FitsStreamWriter::write_rows_channel(int channel, int row0, int nrows, std::span<const float> data) {
  State& s = live(s_);
  s.run("write_rows_channel",
        [&] { s.write_band(FitsPixelType::Float32, channel, 1, row0, nrows, data.data(), data.size()); });
}

void FitsStreamWriter::add_extension_streamed(const std::string& extname, int width, int height, FitsPixelType type,
                                              const FitsHeader& header) {
  State& s = live(s_);
  s.run("add_extension_streamed", [&] {
    s.require_complete("start extension '" + extname + "'");
    check_dimensions(s.path, "extension '" + extname + "'", width, height);
    int bitpix = type == FitsPixelType::UInt8 ? BYTE_IMG : FLOAT_IMG;
    fitswrite::begin_extension(s.file.get(), bitpix, width, height, extname, header, *s.out);
    s.reserve_header_space();
    s.hdu = HduProgress(s.hdu_count, extname, type, width, height, 1, false);
    ++s.hdu_count;
  });
}

void FitsStreamWriter::add_extension(const FitsExtension& ext) {
  State& s = live(s_);
  s.run("add_extension", [&] {
    s.require_complete("add extension '" + ext.extname + "'");
    fitswrite::validate_extension(ext, s.path);
    bool bytes = !ext.u8.empty();
    fitswrite::begin_extension(s.file.get(), bytes ? BYTE_IMG : FLOAT_IMG, ext.width, ext.height, ext.extname,
                               ext.header, *s.out);
    s.reserve_header_space();
    if (bytes)
      fitswrite::write_pixels(s.file.get(), TBYTE, 1, ext.u8.size(), ext.u8.data(), *s.out);
    else
      fitswrite::write_pixels(s.file.get(), TFLOAT, 1, ext.f32.size(), ext.f32.data(), *s.out);
    FitsPixelType type = bytes ? FitsPixelType::UInt8 : FitsPixelType::Float32;
    s.hdu = HduProgress(s.hdu_count, ext.extname, type, ext.width, ext.height, 1, true);
    ++s.hdu_count;
  });
}

void FitsStreamWriter::set_key(std::string_view key, FitsCard::Value value, std::string_view comment) {
  State& s = live(s_);
  s.run("set_key", [&] { s.queue_card(0, key, std::move(value), comment); });
}

void FitsStreamWriter::set_extension_key(int extension, std::string_view key, FitsCard::Value value,
                                         std::string_view comment) {
  State& s = live(s_);
  s.run("set_extension_key", [&] {
    if (extension < 1 || extension >= s.hdu_count)
      throw std::out_of_range(s.path.string() + ": set_extension_key: extension " + std::to_string(extension) +
                              " does not exist (" + std::to_string(s.hdu_count - 1) + " added so far)");
    s.queue_card(extension, key, std::move(value), comment);
  });
}

int FitsStreamWriter::current_hdu() const { return live(s_).hdu.index; }
long long FitsStreamWriter::rows_missing() const { return live(s_).hdu.missing; }
const std::filesystem::path& FitsStreamWriter::path() const { return live(s_).path; }

void FitsStreamWriter::commit() {
  State& s = live(s_);
  s.run("commit", [&] {
    s.require_complete("commit");
    s.apply_pending();
    fitswrite::finish(s.file, *s.out);
    s.phase = State::Phase::Committed;
  });
}

}  // namespace zm
