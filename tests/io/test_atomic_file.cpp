#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "fits_test_util.hpp"
#include "io/atomic_file.hpp"
#include "io/fits_reader.hpp"
#include "io/fits_writer.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& p : test::files_in(dir)) out.push_back(p.filename().string());
  return out;
}

TEST(AtomicOutput, TempIsHiddenInTheSameFolderAndUnique) {
  test::TempDir dir("io_atomic");
  AtomicOutput a(dir / "out.fits");
  AtomicOutput b(dir / "out.fits");
  EXPECT_EQ(a.temp_path().parent_path(), dir.path());
  EXPECT_EQ(a.temp_path().filename().string().rfind(".out.fits.tmp." + std::to_string(::getpid()) + ".", 0), 0u);
  EXPECT_NE(a.temp_path(), b.temp_path());
  EXPECT_EQ(a.final_path(), dir / "out.fits");
}

TEST(AtomicOutput, UncommittedTempIsRemovedAndFinalUntouched) {
  test::TempDir dir("io_atomic");
  auto final_path = dir / "keep.txt";
  test::write_bytes(final_path, "original");
  {
    AtomicOutput out(final_path);
    test::write_bytes(out.temp_path(), "half-written");
    ASSERT_TRUE(std::filesystem::exists(out.temp_path()));
  }
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"keep.txt"});
  EXPECT_EQ(test::read_bytes(final_path), "original");
}

TEST(AtomicOutput, CommitReplacesTheFinalFile) {
  test::TempDir dir("io_atomic");
  auto final_path = dir / "manifest.json";
  test::write_bytes(final_path, "old");
  write_text_atomic(final_path, "{\"new\": true}\n");
  EXPECT_EQ(test::read_bytes(final_path), "{\"new\": true}\n");
  write_text_atomic(dir / "empty.txt", "");
  EXPECT_EQ(test::read_bytes(dir / "empty.txt"), "");
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"empty.txt", "manifest.json"}));
  AtomicOutput twice(dir / "x");
  test::write_bytes(twice.temp_path(), "x");
  twice.commit();
  EXPECT_THROW(twice.commit(), std::logic_error);
}

TEST(AtomicOutput, WriteIntoMissingFolderFails) {
  test::TempDir dir("io_atomic");
  EXPECT_THROW(write_text_atomic(dir / "no/such/dir/file.txt", "x"), std::exception);
  ImageF img(1, 2, 2, 1.0f);
  EXPECT_THROW(write_fits_float(dir / "no/such/dir/file.fits", img, FitsHeader{}), std::exception);
  EXPECT_TRUE(names_in(dir.path()).empty());
}

TEST(FitsWriterAtomicity, NoTempAfterSuccessOrInvalidInput) {
  test::TempDir dir("io_atomic");
  auto path = dir / "img.fits";
  ImageF img(1, 8, 8, 1.0f);
  write_fits_float(path, img, FitsHeader{});
  std::string before = test::read_bytes(path);
  ImageF broken(1, 8, 8, 1.0f);
  broken.data.resize(10);
  EXPECT_THROW(write_fits_float(path, broken, FitsHeader{}), std::invalid_argument);
  std::vector<long> naxes = {2, 2};
  EXPECT_THROW(write_fits_typed(path, 16, naxes, std::vector<double>{1e9, 0, 0, 0}, FitsHeader{}),
               std::invalid_argument)
      << "out-of-range value fails after the temp file was created";
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"img.fits"});
  EXPECT_EQ(test::read_bytes(path), before);
}

// A real I/O failure in the middle of writing (file size limit, like a full disk): the exception propagates,
// the temp file is gone and the previous final file is intact. Runs in a child process to confine the limit.
TEST(FitsWriterAtomicity, FailureMidWriteLeavesFinalIntact) {
  test::TempDir dir("io_atomic");
  auto path = dir / "big.fits";
  ImageF small(1, 4, 4, 1.0f);
  write_fits_float(path, small, FitsHeader{});
  std::string before = test::read_bytes(path);
  const int code = test::exit_code_under_file_size_limit(64 * 1024, [&] {
    ImageF big(1, 256, 256, 2.0f);  // 256 KB of pixels
    try {
      write_fits_float(path, big, FitsHeader{});
      return 1;
    } catch (const std::exception&) {
      return 0;
    }
  });
  EXPECT_EQ(code, 0) << "the write over the size limit must throw";
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"big.fits"});
  EXPECT_EQ(test::read_bytes(path), before);
  EXPECT_EQ(FitsImageReader(path.string()).read_all().data, small.data);
}

}  // namespace
}  // namespace zm
