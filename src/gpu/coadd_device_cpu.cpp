// The GPU coadd in a binary built without CUDA: constructing a device object throws, so callers take the CPU path.
#include "gpu/coadd_device.hpp"

namespace zm::gpu {

struct DeviceAccumulator::Impl {};

PinnedFloats::PinnedFloats(std::size_t count) : data_(new float[count]) {}
PinnedFloats::~PinnedFloats() { delete[] data_; }

DeviceTile::DeviceTile(const TileRows& host) : dev_(host) { throw DeviceError("built without CUDA"); }
DeviceTile::~DeviceTile() = default;

DeviceAccumulator::DeviceAccumulator(long long, long long, int, const double*) {
  throw DeviceError("built without CUDA");
}
DeviceAccumulator::~DeviceAccumulator() = default;
void DeviceAccumulator::rebase(const Rect& region) { region_ = region; }
void DeviceAccumulator::add(const DeviceTile&, const Contribution&, const Rect&, const MapNodes&) {
  throw DeviceError("built without CUDA");
}
void DeviceAccumulator::add(const DeviceTile&, const Contribution&, const Rect&, const double*, const double*) {
  throw DeviceError("built without CUDA");
}
long long DeviceAccumulator::finish_rows(int, int, float*, float*, float*) { throw DeviceError("built without CUDA"); }

}  // namespace zm::gpu
