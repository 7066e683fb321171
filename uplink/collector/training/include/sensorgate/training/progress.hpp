#pragma once
// Progress of a long training step, for a progress bar: fraction in [0, 1], never
// decreasing, 1 when the step is done. An empty function is allowed and never called.

#include <functional>

namespace sensorgate::training {

using ProgressCallback = std::function<void(double fraction)>;

}  // namespace sensorgate::training
