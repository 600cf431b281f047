// A full disk is an error the run reports, not lost events or a half-written mosaic (issue 19): the events file on
// a device that refuses writes, and the whole output on a small tmpfs.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <string>

#include "child_run.hpp"
#include "sim/dataset.hpp"
#include "test_support.hpp"

namespace zm {
namespace {
namespace fs = std::filesystem;

fs::path small_dataset(const fs::path& dir) {
  sim::SimConfig c;
  c.seed = 9;
  c.layout.grid_cols = 2;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = 3;
  c.layout.width = 320;
  c.layout.height = 240;
  c.sky.star_density_per_deg2 = 20000.0;
  c.write_truth = false;
  sim::write_dataset(c, dir / "data");
  return dir / "data" / sim::kLightsFolder;
}

// No science FITS (and no temporary one) is left in `out`.
void expect_no_science(const fs::path& out) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out, ec)) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.find("_science"), std::string::npos) << name;
  }
}

TEST(FullDisk, AnEventsFileThatCannotBeWrittenEndsTheRunNamingIt) {
  test::TempDir dir("full_events");
  const fs::path lights = small_dataset(dir.path());
  const fs::path out = dir.path() / "out";
  const test::ChildRun run = test::run_zemosaic(lights, out, {"-j", "2"}, "/dev/full");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.stderr_text.find("/dev/full"), std::string::npos) << run.stderr_text;
  expect_no_science(out);
}

// The output folder (cache, events, mosaic) on a 4 MiB tmpfs: the frames alone need more.
TEST(FullDisk, AFullOutputDiskEndsTheRunWithTheFileAndNoHalfWrittenMosaic) {
  test::TempDir dir("full_tmpfs");
  const fs::path lights = small_dataset(dir.path());
  const fs::path mnt = dir.path() / "mnt";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
  const fs::path out = mnt / "out";
  const test::ChildRun run = test::run_zemosaic(lights, out, {"-j", "2"}, mnt / "events.jsonl");
  const std::string err = run.stderr_text;
  expect_no_science(out);
  ::umount2(mnt.c_str(), MNT_DETACH);
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(err.find(mnt.string()), std::string::npos) << err;  // names the file it could not write
  EXPECT_NE(err.find("space"), std::string::npos) << err;       // and why (ENOSPC)
}

}  // namespace
}  // namespace zm
