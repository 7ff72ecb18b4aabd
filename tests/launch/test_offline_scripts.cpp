// launch/offline/build-offline.sh on hand-made .deb files: what it unpacks, what it leaves
// to the target, the /usr paths it re-points into the prefix, and its error messages.
// (fetch-debs.sh needs a package mirror; only its usage is checked here.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "support/support.h"

namespace dpst::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kBuildOffline = std::string(DPST_SOURCE_DIR) + "/launch/offline/build-offline.sh";
const std::string kFetchDebs = std::string(DPST_SOURCE_DIR) + "/launch/offline/fetch-debs.sh";
constexpr const char* kLib = "usr/lib/x86_64-linux-gnu";

class OfflineBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir / "debs");
    // A library with an absolute -dev symlink and a CMake file that names /usr literally.
    const fs::path foo = dir / "src" / "libfoo";
    write_file(foo / kLib / "libfoo.so.1", "not really a library\n");
    fs::create_symlink("/usr/lib/x86_64-linux-gnu/libfoo.so.1", foo / kLib / "libfoo.so");
    write_file(foo / kLib / "cmake" / "foo" / "fooTargets.cmake",
               "set_target_properties(foo PROPERTIES IMPORTED_LOCATION \"/usr/lib/x86_64-linux-gnu/libfoo.so.1\")\n"
               "set(FOO_SYSTEM_LIB \"/usr/lib/x86_64-linux-gnu/libm.so\")\n");
    make_deb("libfoo", foo);
    // Open MPI's and HDF5's wrappers as the packages ship them.
    const fs::path tools = dir / "src" / "tools";
    write_file(tools / "usr/bin/mpicc.openmpi", "#!/bin/sh\necho mpicc\n");
    write_file(tools / "usr/bin/mpirun.openmpi", "#!/bin/sh\necho mpirun\n");
    write_file(tools / "usr/bin/h5cc", "#!/bin/sh\nprefix=\"/usr\"\nlibdir=\"${prefix}/lib\"\n");
    run("chmod +x " + (tools / "usr/bin").string() + "/*");
    make_deb("libopenmpi-dev", tools);
    // glibc must never come from the prefix.
    const fs::path libc = dir / "src" / "libc6";
    write_file(libc / kLib / "libc.so.6", "not really glibc\n");
    make_deb("libc6", libc);
  }

  // Builds NAME_1.0_amd64.deb from the tree under root and lists it in MANIFEST.
  void make_deb(const std::string& name, const fs::path& root) {
    write_file(root / "DEBIAN" / "control", "Package: " + name +
                                                "\nVersion: 1.0\nArchitecture: amd64\nMaintainer: dpst tests\n"
                                                "Description: stand-in\n");
    const std::string deb = name + "_1.0_amd64.deb";
    const auto r = run("dpkg-deb --root-owner-group --build " + root.string() + " " + (dir / "debs" / deb).string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    manifest += deb + "\n";
    write_file(dir / "debs" / "MANIFEST", manifest);
  }

  // Unpacks into dir/prefix and stops where LibTorch would be configured (there is none).
  ProcessResult build_offline(const std::string& extra = "") {
    return run("bash " + kBuildOffline + " --debs " + (dir / "debs").string() + " --prefix " +
               (dir / "prefix").string() + " --torch-prefix " + (dir / "no-libtorch").string() + " --no-build " +
               extra);
  }

  TempDir dir;
  std::string manifest;
};

TEST_F(OfflineBuild, UnpacksThePackagesButNotTheTargetsOwnGlibc) {
  const auto r = build_offline();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("LibTorch CMake prefix '" + (dir / "no-libtorch").string() + "' does not exist"));
  EXPECT_THAT(r.out, HasSubstr("skipping libc6_1.0_amd64.deb (the target's own)"));
  const fs::path prefix = dir / "prefix";
  EXPECT_EQ(read_file(prefix / kLib / "libfoo.so.1"), "not really a library\n");
  EXPECT_FALSE(fs::exists(prefix / kLib / "libc.so.6"));
  EXPECT_EQ(read_file(prefix / ".dpst-unpacked"), manifest);
}

TEST_F(OfflineBuild, RepointsUsrPathsThatExistInThePrefix) {
  build_offline();
  const fs::path prefix = dir / "prefix";
  EXPECT_EQ(fs::read_symlink(prefix / kLib / "libfoo.so"), prefix / kLib / "libfoo.so.1");
  const std::string targets = read_file(prefix / kLib / "cmake/foo/fooTargets.cmake");
  EXPECT_THAT(targets, HasSubstr("IMPORTED_LOCATION \"" + (prefix / kLib / "libfoo.so.1").string() + "\""));
  EXPECT_THAT(targets, HasSubstr("\"/usr/lib/x86_64-linux-gnu/libm.so\""));  // not in the prefix: the target's
  EXPECT_THAT(read_file(prefix / "usr/bin/h5cc"), HasSubstr("prefix=\"" + (prefix / "usr").string() + "\""));
  EXPECT_EQ(fs::read_symlink(prefix / "usr/bin/mpicc"), "mpicc.openmpi");
  EXPECT_EQ(fs::read_symlink(prefix / "usr/bin/mpirun"), "mpirun.openmpi");
  EXPECT_THAT(read_file(prefix / "dpst-env.sh"), HasSubstr("export OPAL_PREFIX=\"" + (prefix / "usr").string() + "\""));
}

TEST_F(OfflineBuild, ASecondRunReusesTheUnpackedPrefix) {
  build_offline();
  const auto again = build_offline();
  EXPECT_THAT(again.out, HasSubstr("already holds the packages of"));
  EXPECT_THAT(again.out, ::testing::Not(HasSubstr("unpacked 3/3")));
}

TEST_F(OfflineBuild, AMissingPackageIsNamed) {
  write_file(dir / "debs" / "MANIFEST", manifest + "libbar_2.0_amd64.deb\n");
  const auto r = build_offline();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr((dir / "debs" / "libbar_2.0_amd64.deb").string() + " is listed in MANIFEST but missing"));
}

TEST_F(OfflineBuild, ACorruptPackageIsNamed) {
  write_file(dir / "debs" / "libfoo_1.0_amd64.deb", "truncated download");
  const auto r = build_offline();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot unpack " + (dir / "debs" / "libfoo_1.0_amd64.deb").string() +
                               " (corrupt or truncated download?)"));
  EXPECT_FALSE(fs::exists(dir / "prefix" / ".dpst-unpacked"));  // the next run unpacks again
}

TEST_F(OfflineBuild, AFolderWithoutManifestIsRefused) {
  fs::remove(dir / "debs" / "MANIFEST");
  const auto r = build_offline();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("MANIFEST not found: --debs must be a folder written by fetch-debs.sh"));
}

TEST_F(OfflineBuild, UsageErrorsExitWithTwo) {
  const auto unknown = build_offline("--bogus");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown argument '--bogus'"));
  const auto cuda = build_offline("--cuda maybe");
  EXPECT_EQ(cuda.exit_code, 2);
  EXPECT_THAT(cuda.err, HasSubstr("--cuda: 'maybe' is not auto, on or off"));
  const auto fetch = run("bash " + kFetchDebs);
  EXPECT_EQ(fetch.exit_code, 2);
  EXPECT_THAT(fetch.out, HasSubstr("fetch-debs.sh OUT_DIR"));
}

}  // namespace
}  // namespace dpst::test
