// Deliberately broken inputs, named like real Seestar lights so that a folder scan picks them up.
#include <fmt/format.h>

#include <fstream>

#include "core/error.hpp"
#include "io/fits_writer.hpp"
#include "sim/dataset.hpp"

namespace zm::sim {
namespace {

std::string kind_name(InputErrorKind k) { return std::string(to_string(k)); }

}  // namespace

std::vector<CorruptFile> write_corrupt_files(const DatasetPlan& plan, const std::filesystem::path& dir) {
  const auto& c = plan.config;
  const FramePlan& first = plan.frames.front();
  const MicrosUtc after = plan.frames.back().time + 60LL * 1000000LL;
  auto name = [&](int k, const char* ext) {
    std::string n = light_file_name(c.object, c.layout.exposure_s, after + k * 15LL * 1000000LL);
    return n.substr(0, n.size() - 4) + ext;
  };
  std::vector<CorruptFile> out;

  // 1. A real frame cut off in the middle of its data unit (a copy interrupted mid-way).
  const std::string truncated = name(0, ".fit");
  {
    const auto pixels = render_raw_frame(plan.inputs(0));
    write_fits_u16(dir / truncated, first.geometry.width, first.geometry.height, pixels, frame_header(plan, first));
    const auto full = std::filesystem::file_size(dir / truncated);
    std::filesystem::resize_file(dir / truncated, full / 2 + 123);
  }
  out.push_back({truncated, "FITS frame truncated inside its data unit (copy of frame 0, cut at half size + 123 B)",
                 kind_name(InputErrorKind::Truncated)});

  // 2. Text with a FITS name.
  const std::string text = name(1, ".fits");
  {
    std::ofstream f(dir / text, std::ios::binary | std::ios::trunc);
    f << "This is not a FITS file: a text note saved with a .fits name.\n";
  }
  out.push_back({text, "plain text file named .fits", kind_name(InputErrorKind::NotFits)});

  // 3. A well-formed float32 frame whose every pixel is NaN.
  const std::string nan_frame = name(2, ".fit");
  {
    ImageF img(1, first.geometry.width, first.geometry.height, std::numeric_limits<float>::quiet_NaN());
    write_fits_float(dir / nan_frame, img, frame_header(plan, first));
  }
  out.push_back({nan_frame, "float32 frame (BITPIX -32) with every pixel NaN, frame 0's header",
                 kind_name(InputErrorKind::AllNan)});

  // 4. An empty file (an aborted download).
  const std::string empty = name(3, ".fit");
  { std::ofstream f(dir / empty, std::ios::binary | std::ios::trunc); }
  out.push_back({empty, "zero-size file", kind_name(InputErrorKind::Empty)});
  return out;
}

}  // namespace zm::sim
