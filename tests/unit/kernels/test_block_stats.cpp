#include "sensorgate/kernels/moments.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "sensorgate/kernels/block_stats.hpp"
#include "sensorgate/testing/reference_stats.hpp"

namespace sensorgate::kernels {
namespace {

using testing::close;
using testing::reference_stats;

std::vector<float> random_frames(std::size_t frames, std::size_t channels, double offset, double spread,
                                 std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, spread);
  std::vector<float> out(frames * channels);
  for (auto& x : out) x = static_cast<float>(offset + noise(rng));
  return out;
}

void expect_matches_reference(const Moments& m, std::span<const float> samples, std::size_t channels,
                              std::size_t channel, double rel) {
  const auto ref = reference_stats(samples, channels, channel);
  EXPECT_EQ(m.count, ref.count);
  EXPECT_FLOAT_EQ(m.min, static_cast<float>(ref.min));
  EXPECT_FLOAT_EQ(m.max, static_cast<float>(ref.max));
  EXPECT_TRUE(close(m.mean, ref.mean, rel)) << m.mean << " vs " << ref.mean;
  EXPECT_TRUE(close(m.variance(), ref.variance, rel)) << m.variance() << " vs " << ref.variance;
}

TEST(BlockMoments, RandomBlock_MatchesTwoPassReference) {
  const auto samples = random_frames(100, 16, 0.0, 20.0, 1);
  std::vector<Moments> out(16);
  block_moments(samples.data(), 100, 16, out.data());
  for (std::size_t c = 0; c < 16; ++c) expect_matches_reference(out[c], samples, 16, c, 1e-12);
}

// Values around 1e6 with a spread of 0.01: the naive sum-of-squares formula loses every
// digit here; block means and Chan merges must not.
TEST(BlockMoments, LargeOffsetTinyVariance_MergedBlocksKeepPrecision) {
  constexpr std::size_t kFrames = 4096;
  const auto samples = random_frames(kFrames, 4, 1e6, 0.01, 2);
  std::vector<Moments> total(4);
  std::vector<Moments> block(4);
  for (std::size_t f = 0; f < kFrames; f += 16) {
    block_moments(samples.data() + f * 4, 16, 4, block.data());
    for (std::size_t c = 0; c < 4; ++c) total[c].merge(block[c]);
  }
  for (std::size_t c = 0; c < 4; ++c) {
    expect_matches_reference(total[c], samples, 4, c, 1e-6);
    EXPECT_GT(total[c].variance(), 0.0);
  }
}

TEST(Moments, AddAndMerge_AnySplit_SameResult) {
  const auto samples = random_frames(1000, 1, 5.0, 3.0, 3);
  Moments sequential;
  for (float x : samples) sequential.add(x);
  Moments left;
  Moments right;
  for (std::size_t i = 0; i < samples.size(); ++i) (i < 377 ? left : right).add(samples[i]);
  Moments merged;
  merged.merge(right);
  merged.merge(left);
  EXPECT_EQ(merged.count, sequential.count);
  EXPECT_TRUE(close(merged.mean, sequential.mean, 1e-12));
  EXPECT_TRUE(close(merged.variance(), sequential.variance(), 1e-10));
  EXPECT_EQ(merged.min, sequential.min);
  EXPECT_EQ(merged.max, sequential.max);
}

TEST(Moments, MergeEmpty_IsIdentity) {
  Moments m;
  m.add(3.0F);
  m.merge(Moments{});
  EXPECT_EQ(m.count, 1U);
  EXPECT_EQ(m.mean, 3.0);
  Moments empty;
  empty.merge(m);
  EXPECT_EQ(empty.count, 1U);
  EXPECT_EQ(empty.variance(), 0.0);
}

std::vector<BlockJob> jobs_over(const std::vector<float>& samples, std::uint16_t channels, std::uint32_t frames_per,
                                std::uint32_t& outputs) {
  std::vector<BlockJob> jobs;
  const auto frames = static_cast<std::uint32_t>(samples.size() / channels);
  outputs = 0;
  for (std::uint32_t f = 0; f < frames; f += frames_per) {
    const std::uint32_t n = std::min(frames_per, frames - f);
    jobs.push_back({samples.data() + static_cast<std::size_t>(f) * channels, n, channels, outputs});
    outputs += channels;
  }
  return jobs;
}

TEST(CpuBackend, Compute_ManyJobs_EachWritesItsOwnOutputs) {
  const auto samples = random_frames(100, 8, 1.0, 2.0, 4);
  std::uint32_t outputs = 0;
  const auto jobs = jobs_over(samples, 8, 16, outputs);
  std::vector<Moments> out(outputs);
  make_cpu_backend()->compute(jobs, {}, out, {});
  for (const auto& job : jobs) {
    const std::span<const float> block(job.samples, static_cast<std::size_t>(job.frames) * 8);
    for (std::size_t c = 0; c < 8; ++c) expect_matches_reference(out[job.out_offset + c], block, 8, c, 1e-12);
  }
}

TEST(CpuBackend, Compute_WithEdges_HistogramMatchesNaiveCount) {
  const auto samples = random_frames(64, 4, 0.0, 30.0, 6);
  const std::vector<float> edges{-50, -20, -5, 0, 5, 20, 50};
  std::uint32_t outputs = 0;
  const auto jobs = jobs_over(samples, 4, 16, outputs);
  const std::size_t bins = histogram_bins(edges);
  std::vector<Moments> moments(outputs);
  std::vector<std::uint32_t> histogram(outputs * bins, 99);  // overwritten, not added to
  make_cpu_backend()->compute(jobs, edges, moments, histogram);
  for (const auto& job : jobs) {
    for (std::size_t c = 0; c < 4; ++c) {
      std::vector<std::uint32_t> naive(bins, 0);
      for (std::size_t f = 0; f < job.frames; ++f) {
        const float x = job.samples[f * 4 + c];
        std::size_t bin = 0;
        while (bin < edges.size() && x >= edges[bin]) ++bin;
        ++naive[bin];
      }
      const auto* got = histogram.data() + (job.out_offset + c) * bins;
      EXPECT_EQ(std::vector<std::uint32_t>(got, got + bins), naive);
    }
  }
}

TEST(BlockHistograms, ValueOnAnEdge_CountsInTheBinAboveIt) {
  const std::vector<float> edges{0, 10};
  const std::vector<float> samples{-1, 0, 5, 10, 11};
  std::vector<std::uint32_t> counts(histogram_bins(edges), 0);
  block_histograms(samples.data(), samples.size(), 1, edges, counts.data());
  EXPECT_EQ(counts, (std::vector<std::uint32_t>{1, 2, 2}));
}

TEST(BlockHistograms, TwoChannels_CountsAddedPerChannel) {
  const std::vector<float> edges{0};
  // Frames (ch0, ch1): (-1, 1), (2, -2), (3, 0).
  const std::vector<float> samples{-1, 1, 2, -2, 3, 0};
  std::vector<std::uint32_t> counts{5, 5, 5, 5};  // added to, not overwritten
  block_histograms(samples.data(), 3, 2, edges, counts.data());
  EXPECT_EQ(counts, (std::vector<std::uint32_t>{6, 7, 6, 7}));
}

TEST(BackendFactory, UnknownName_Throws) {
  EXPECT_THROW(make_backend("gpu"), std::invalid_argument);
  EXPECT_EQ(make_backend("cpu")->name(), "cpu");
  // auto never fails: it falls back to the CPU when no GPU is usable.
  EXPECT_NO_THROW(make_backend("auto"));
}

TEST(FailoverBackend, Compute_InjectedGpuFailure_BatchRedoneOnCpuThenPrimaryAgain) {
  const auto samples = random_frames(256, 16, 100.0, 30.0, 6);
  const std::vector<float> edges{0, 100, 200};
  std::uint32_t outputs = 0;
  const auto jobs = jobs_over(samples, 16, 16, outputs);
  const std::size_t bins = histogram_bins(edges);
  std::vector<Moments> want(outputs);
  std::vector<std::uint32_t> want_hist(outputs * bins);
  make_cpu_backend()->compute(jobs, edges, want, want_hist);
  auto backend = make_failover_backend("cpu", FailoverOptions{.retry_after_searches = 2, .fail_primary_after = 2});
  ASSERT_NE(backend->failover_counters(), nullptr);
  for (int call = 1; call <= 5; ++call) {
    std::vector<Moments> got(outputs);
    std::vector<std::uint32_t> got_hist(outputs * bins);
    backend->compute(jobs, edges, got, got_hist);
    EXPECT_EQ(got_hist, want_hist) << "call " << call;
    for (std::size_t i = 0; i < outputs; ++i) EXPECT_EQ(got[i].m2, want[i].m2) << "call " << call;
  }
  const auto& c = *backend->failover_counters();
  EXPECT_EQ(c.failures.load(), 1U);           // call 2
  EXPECT_EQ(c.fallback_searches.load(), 2U);  // calls 2 and 3 on the CPU
  EXPECT_EQ(c.recoveries.load(), 1U);         // call 4 back on the primary
  EXPECT_EQ(c.primary_searches.load(), 3U);
  // Without injection "cpu" is the plain backend, no switch around it.
  EXPECT_EQ(make_failover_backend("cpu", {})->failover_counters(), nullptr);
}

// Tolerance between backends: both compute in double from the same floats; the GPU may
// fuse multiply-adds differently, so means and variances agree to 1e-9 relative.
TEST(CudaBackend, Compute_SameJobsAsCpu_AgreesWithinTolerance) {
  if (!cuda_backend_available()) GTEST_SKIP() << "SKIPPED: no CUDA GPU in this build or machine";
  const auto samples = random_frames(4096, 16, 100.0, 30.0, 5);
  const std::vector<float> edges{0, 50, 100, 150, 200};
  std::uint32_t outputs = 0;
  const auto jobs = jobs_over(samples, 16, 16, outputs);
  const std::size_t bins = histogram_bins(edges);
  std::vector<Moments> cpu(outputs);
  std::vector<Moments> gpu(outputs);
  std::vector<std::uint32_t> cpu_hist(outputs * bins);
  std::vector<std::uint32_t> gpu_hist(outputs * bins);
  make_cpu_backend()->compute(jobs, edges, cpu, cpu_hist);
  make_cuda_backend()->compute(jobs, edges, gpu, gpu_hist);
  EXPECT_EQ(gpu_hist, cpu_hist);
  for (std::size_t i = 0; i < outputs; ++i) {
    EXPECT_EQ(gpu[i].count, cpu[i].count);
    EXPECT_EQ(gpu[i].min, cpu[i].min);
    EXPECT_EQ(gpu[i].max, cpu[i].max);
    EXPECT_TRUE(close(gpu[i].mean, cpu[i].mean, 1e-9));
    EXPECT_TRUE(close(gpu[i].m2, cpu[i].m2, 1e-9));
  }
}

TEST(CudaBackend, Unavailable_FactoryThrowsClearError) {
  if (cuda_backend_available()) GTEST_SKIP() << "SKIPPED: a GPU is present";
  EXPECT_THROW(make_cuda_backend(), std::runtime_error);
}

}  // namespace
}  // namespace sensorgate::kernels
