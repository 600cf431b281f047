#include "io/png_writer.hpp"

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/error.hpp"
#include "io/atomic_file.hpp"

namespace zm {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& reason) {
  throw OutputError(path.string(), reason);
}

// libpng's simplified API keeps its setjmp error handling internal, so no longjmp crosses our C++ frames.
void write_png(const std::filesystem::path& path, int width, int height, std::span<const std::uint8_t> pixels,
               int channels) {
  if (width < 1 || height < 1 ||
      pixels.size() != static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * channels)
    throw std::invalid_argument(path.string() + ": a " + std::to_string(width) + " x " + std::to_string(height) +
                                " PNG needs " + std::to_string(channels) + " bytes per pixel, got " +
                                std::to_string(pixels.size()) + " bytes");
  AtomicOutput out(path);
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(out.temp_path().c_str(), "wbx"));
  if (!file) fail(path, "cannot create " + out.temp_path().string() + ": " + std::strerror(errno));
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  int ok = png_image_write_to_stdio(&image, file.get(), 0, pixels.data(), 0, nullptr);
  std::string message = image.message;
  png_image_free(&image);
  if (!ok) fail(path, "libpng cannot write the image: " + message);
  // fclose flushes the last buffered bytes: its failure (disk full) is a failed write.
  if (std::fclose(file.release()) != 0) fail(path, std::string("cannot finish writing: ") + std::strerror(errno));
  out.commit();
}

}  // namespace

void write_png_rgb8(const std::filesystem::path& path, int width, int height, std::span<const std::uint8_t> rgb) {
  write_png(path, width, height, rgb, 3);
}

void write_png_rgba8(const std::filesystem::path& path, int width, int height, std::span<const std::uint8_t> rgba) {
  write_png(path, width, height, rgba, 4);
}

}  // namespace zm
