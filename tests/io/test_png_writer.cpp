#include <gtest/gtest.h>
#include <png.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <random>

#include "core/error.hpp"
#include "fits_test_util.hpp"
#include "io/png_writer.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

namespace fs = std::filesystem;

struct Decoded {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  png_uint_32 format = 0;  // as stored in the file
  std::vector<std::uint8_t> pixels;
};

// Decodes with libpng into the file's own 8-bit format (RGB or RGBA), rows top first.
Decoded decode_png(const fs::path& path) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  Decoded d;
  if (!png_image_begin_read_from_file(&image, path.c_str())) {
    ADD_FAILURE() << "libpng cannot open " << path << ": " << image.message;
    return d;
  }
  d.width = image.width;
  d.height = image.height;
  d.format = image.format;
  d.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, d.pixels.data(), 0, nullptr))
    ADD_FAILURE() << "libpng cannot decode " << path << ": " << image.message;
  return d;
}

std::vector<std::uint8_t> test_pattern(int width, int height, int channels) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(width) * height * channels);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c)
        v[(static_cast<std::size_t>(y) * width + x) * channels + c] =
            static_cast<std::uint8_t>(c == 3 ? (x * 255) / (width - 1) : x * 3 + y * 5 + c * 85);
  return v;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& p : test::files_in(dir)) out.push_back(p.filename().string());
  return out;
}

TEST(PngWriter, RgbRoundTripThroughLibpng) {
  test::TempDir dir("io_png");
  const int w = 61, h = 17;  // odd width: no row padding assumptions
  auto rgb = test_pattern(w, h, 3);
  auto path = dir / "preview.png";
  write_png_rgb8(path, w, h, rgb);
  Decoded d = decode_png(path);
  EXPECT_EQ(d.width, static_cast<png_uint_32>(w));
  EXPECT_EQ(d.height, static_cast<png_uint_32>(h));
  EXPECT_EQ(d.format, static_cast<png_uint_32>(PNG_FORMAT_RGB));
  EXPECT_EQ(d.pixels, rgb);
  EXPECT_EQ(test::read_bytes(path).substr(1, 3), "PNG");
}

TEST(PngWriter, RgbaRoundTripKeepsAlpha) {
  test::TempDir dir("io_png");
  const int w = 32, h = 9;
  auto rgba = test_pattern(w, h, 4);
  auto path = dir / "preview_alpha.png";
  write_png_rgba8(path, w, h, rgba);
  Decoded d = decode_png(path);
  EXPECT_EQ(d.format, static_cast<png_uint_32>(PNG_FORMAT_RGBA));
  EXPECT_EQ(d.pixels, rgba) << "not premultiplied, alpha 0..255 kept";
}

TEST(PngWriter, OverwritesAtomicallyAndRefusesBadInput) {
  test::TempDir dir("io_png");
  auto path = dir / "p.png";
  write_png_rgb8(path, 2, 2, test_pattern(2, 2, 3));
  auto bigger = test_pattern(3, 2, 3);
  write_png_rgb8(path, 3, 2, bigger);
  EXPECT_EQ(decode_png(path).pixels, bigger);
  std::string before = test::read_bytes(path);

  EXPECT_THROW(write_png_rgb8(path, 3, 2, std::vector<std::uint8_t>(17)), std::invalid_argument);
  EXPECT_THROW(write_png_rgba8(path, 3, 2, bigger), std::invalid_argument) << "RGB bytes are not RGBA";
  EXPECT_THROW(write_png_rgb8(path, 0, 2, std::vector<std::uint8_t>{}), std::invalid_argument);
  try {
    write_png_rgb8(dir / "missing/p.png", 3, 2, bigger);
    FAIL() << "must throw";
  } catch (const OutputError& e) {
    EXPECT_EQ(e.path(), (dir / "missing/p.png").string());
  }
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"p.png"});
  EXPECT_EQ(test::read_bytes(path), before);
}

// Disk full while encoding (file size limit in a child process): OutputError, no temp, old file intact.
TEST(PngWriter, FailureMidWriteLeavesTheOldFile) {
  test::TempDir dir("io_png");
  auto path = dir / "p.png";
  write_png_rgb8(path, 2, 2, test_pattern(2, 2, 3));
  std::string before = test::read_bytes(path);
  const int code = test::exit_code_under_file_size_limit(16 * 1024, [&] {
    std::vector<std::uint8_t> noise(256 * 256 * 3);  // incompressible: far over the limit
    std::mt19937 rng(1);
    for (auto& b : noise) b = static_cast<std::uint8_t>(rng());
    try {
      write_png_rgb8(path, 256, 256, noise);
      return 1;
    } catch (const OutputError&) {
      return 0;
    }
  });
  EXPECT_EQ(code, 0) << "1: no exception, 3: not an OutputError";
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"p.png"});
  EXPECT_EQ(test::read_bytes(path), before);
}

}  // namespace
}  // namespace zm
