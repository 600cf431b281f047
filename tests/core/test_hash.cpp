#include <gtest/gtest.h>

#include <fstream>

#include "core/hash.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

TEST(Hash, StreamingEqualsOneShotAndDiffersOnChange) {
  Hasher h;
  h.update("hello ");
  h.update("world");
  EXPECT_EQ(h.hex(), hash_hex("hello world"));
  EXPECT_EQ(h.hex().size(), 32u);
  EXPECT_NE(hash_hex("hello world"), hash_hex("hello worle"));
}

TEST(Hash, FileHashEqualsTextHash) {
  test::TempDir dir("hash");
  std::string big(3 << 20, 'x');
  big[1234567] = 'y';
  std::ofstream(dir / "f.bin", std::ios::binary) << big;
  EXPECT_EQ(file_content_hash(dir / "f.bin"), hash_hex(big));
}

}  // namespace
}  // namespace zm
