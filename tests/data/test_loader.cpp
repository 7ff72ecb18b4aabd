// Loader: same batches as Sampler + Dataset, any thread count; errors become exceptions.
#include <gtest/gtest.h>

#include <chrono>

#include "data/loader.h"
#include "data_test_util.h"
#include "support/support.h"

namespace dpst::data {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

TEST(Loader, DeliversTheSamplerSequenceWithAnyThreadCount) {
  TempDir tmp;
  test::make_packed(tmp / "imgs", tmp / "d.h5", 11, 8);
  const Dataset d = Dataset::open(tmp / "d.h5", "train2014");
  for (int threads : {1, 3}) {
    Sampler reference(11, 2, 2, 1, 5);
    Loader loader({tmp / "d.h5", "train2014", threads, 3}, Sampler(11, 2, 2, 1, 5));
    for (int i = 0; i < 8; ++i) {  // 2 batches per epoch: crosses 3 epoch boundaries
      const Cursor before = reference.cursor();
      const auto expected = reference.next();
      const Batch b = loader.next();
      EXPECT_EQ(b.indices, expected);
      EXPECT_EQ(b.cursor, before);
      EXPECT_EQ(b.next_cursor, reference.cursor());
      EXPECT_TRUE(torch::equal(b.images, d.read_batch(expected)));
    }
    EXPECT_EQ(loader.batches_delivered(), 8);
    EXPECT_EQ(loader.images_delivered(), 16);
    EXPECT_GT(loader.images_per_second(), 0.0);
  }
}

TEST(Loader, StartsAtARestoredCursor) {
  TempDir tmp;
  test::make_packed(tmp / "imgs", tmp / "d.h5", 9, 8);
  Sampler s(9, 3, 1, 0, 2);
  s.restore({4, 1});
  Sampler reference = s;
  Loader loader({tmp / "d.h5", "train2014", 2, 2}, s);
  EXPECT_EQ(loader.next().indices, reference.next());
  EXPECT_EQ(loader.next().indices, reference.next());
}

TEST(Loader, ConsumerWaitIsMeasured) {
  TempDir tmp;
  test::make_packed(tmp / "imgs", tmp / "d.h5", 64, 32);
  {
    // A consumer that does nothing but take batches spends most of its time waiting.
    Loader loader({tmp / "d.h5", "train2014", 1, 1}, Sampler(64, 16, 1, 0, 0));
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 12; ++i) loader.next();
    const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GT(loader.wait_ms(), 0.5 * elapsed) << "waited " << loader.wait_ms() << " of " << elapsed << " ms";
  }
  // One that comes late finds the next batch ready.
  Loader loader({tmp / "d.h5", "train2014", 1, 1}, Sampler(64, 1, 1, 0, 0));
  loader.next();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the worker refills meanwhile
  const double before = loader.wait_ms();
  loader.next();
  EXPECT_LT(loader.wait_ms() - before, 40.0);
}

TEST(Loader, DestructorDoesNotHangWithAFullQueue) {
  TempDir tmp;
  test::make_packed(tmp / "imgs", tmp / "d.h5", 6, 8);
  const auto t0 = std::chrono::steady_clock::now();
  {
    Loader loader({tmp / "d.h5", "train2014", 3, 4}, Sampler(6, 1, 1, 0, 0));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
}

TEST(Loader, BadFileOrSamplerFailsAtConstruction) {
  TempDir tmp;
  test::make_packed(tmp / "imgs", tmp / "d.h5", 6, 8);
  EXPECT_THROW(Loader({tmp / "absent.h5", "train2014", 1, 1}, Sampler(6, 1, 1, 0, 0)), InputError);
  try {
    Loader({tmp / "d.h5", "train2014", 1, 1}, Sampler(7, 1, 1, 0, 0));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("the sampler was built for 7 images but"), std::string::npos) << e.what();
  }
}

// Damage the chunk index of the images (the B-tree node "TREE" of type 1 = raw data
// chunks): the file still opens and validates, but reading image data fails, in the
// worker thread.
TEST(Loader, ReadErrorInAWorkerBecomesAnExceptionInNext) {
  TempDir tmp;
  test::make_packed(tmp / "imgs", tmp / "d.h5", 6, 8);
  std::string bytes = test::read_file(tmp / "d.h5");
  const size_t at = bytes.find(std::string("TREE\x01", 5));
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'X';
  test::write_file(tmp / "d.h5", bytes);

  Loader loader({tmp / "d.h5", "train2014", 2, 2}, Sampler(6, 2, 1, 0, 0));
  for (int attempt = 0; attempt < 2; ++attempt) {  // and stays failed
    try {
      loader.next();
      FAIL() << "expected InputError";
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("data loader: batch 0 of epoch 0 (2 images) from " + (tmp / "d.h5").string() +
                         " split 'train2014'"),
                std::string::npos) << msg;
      EXPECT_NE(msg.find("cannot read"), std::string::npos) << msg;
    }
  }
}

}  // namespace
}  // namespace dpst::data
