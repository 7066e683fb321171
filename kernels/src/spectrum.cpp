#include "sensorgate/kernels/spectrum.hpp"

#include <unsupported/Eigen/FFT>

#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

namespace sensorgate::kernels {

struct BandPowerCalculator::Impl {
  Eigen::FFT<double> fft;
  std::vector<double> hann;  // for the last length seen (window lengths rarely change)
  double hann_power = 0;     // sum of squared window values
  std::vector<double> windowed;
  std::vector<std::complex<double>> spectrum;

  Impl() { fft.SetFlag(Eigen::FFT<double>::HalfSpectrum); }

  void prepare(std::size_t n) {
    if (hann.size() == n) return;
    hann.resize(n);
    hann_power = 0;
    for (std::size_t i = 0; i < n; ++i) {
      // Periodic Hann: the usual choice for spectral estimation.
      hann[i] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(n));
      hann_power += hann[i] * hann[i];
    }
    windowed.resize(n);
  }
};

BandPowerCalculator::BandPowerCalculator() : impl_(std::make_unique<Impl>()) {}
BandPowerCalculator::~BandPowerCalculator() = default;
BandPowerCalculator::BandPowerCalculator(BandPowerCalculator&&) noexcept = default;
BandPowerCalculator& BandPowerCalculator::operator=(BandPowerCalculator&&) noexcept = default;

BandPowers BandPowerCalculator::compute(std::span<const float> samples, double rate_hz) {
  BandPowers out{};
  const std::size_t n = samples.size();
  if (n < 4 || !(rate_hz > 0)) return out;
  Impl& s = *impl_;
  s.prepare(n);
  double mean = 0;
  for (float x : samples) mean += x;
  mean /= static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i) s.windowed[i] = (samples[i] - mean) * s.hann[i];
  s.fft.fwd(s.spectrum, s.windowed);

  // One-sided periodogram: P[k] = 2 |X[k]|^2 / (fs * sum(w^2)) (DC and Nyquist not doubled);
  // band power = sum of P[k] * df over the band's bins, df = fs / n.
  const double df = rate_hz / static_cast<double>(n);
  const double scale = df / (rate_hz * s.hann_power);
  for (std::size_t k = 0; k < s.spectrum.size(); ++k) {
    const double f = static_cast<double>(k) * df;
    const bool edge = k == 0 || (n % 2 == 0 && k == n / 2);
    const double p = (edge ? 1.0 : 2.0) * std::norm(s.spectrum[k]) * scale;
    for (std::size_t b = 0; b < kEegBands.size(); ++b) {
      if (f >= kEegBands[b].low_hz && f < kEegBands[b].high_hz) out[b] += static_cast<float>(p);
    }
  }
  return out;
}

}  // namespace sensorgate::kernels
