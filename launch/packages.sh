# The Debian 12 packages of the libraries dpst builds against, besides LibTorch (sourced by
# install-deps.sh and by the offline scripts, so the two cannot drift apart).
DPST_LIBRARY_PACKAGES=(
  libopenmpi-dev openmpi-bin
  libhdf5-dev hdf5-tools
  libyaml-cpp-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libturbojpeg0-dev libpng-dev
  libcli11-dev nlohmann-json3-dev
)
