#include "sensorgate/sim/progress_line.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

namespace sensorgate::sim {
namespace {

using Seconds = std::chrono::duration<double>;

TEST(ProgressLine, Render_KnownLength_BarPercentSignalTimeAndSpeed) {
  const ProgressLine line(2560, 256.0, nullptr);
  EXPECT_EQ(line.render(1280, Seconds(5.0)), "[##########----------]  50.0%  5.0/10.0 s  1.0x real time");
  EXPECT_EQ(line.render(2560, Seconds(1.0)), "[####################] 100.0%  10.0/10.0 s  10.0x real time");
}

TEST(ProgressLine, Render_UntilStopped_SignalTimeAndSpeedOnly) {
  const ProgressLine line(0, 256.0, nullptr);
  EXPECT_EQ(line.render(512, Seconds(1.0)), "2.0 s sent  2.0x real time");
  EXPECT_EQ(line.render(0, Seconds(0.0)), "0.0 s sent  starting");
}

TEST(ProgressLine, Update_Terminal_RedrawsInPlaceAtMostFiveTimesASecond) {
  const std::unique_ptr<std::FILE, decltype(&std::fclose)> terminal(std::tmpfile(), &std::fclose);
  ASSERT_NE(terminal, nullptr);
  ProgressLine line(2560, 256.0, terminal.get());
  line.update(256, Seconds(1.0));
  line.update(300, Seconds(1.1));  // too soon: not drawn
  line.update(512, Seconds(2.0));
  line.finish(2560, Seconds(10.0));
  std::rewind(terminal.get());
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), terminal.get()));
  EXPECT_NE(text.find("\r[##"), std::string::npos) << text;
  EXPECT_NE(text.find("1.0/10.0 s"), std::string::npos) << text;
  EXPECT_EQ(text.find("1.2/10.0 s"), std::string::npos) << "the update 0.1 s later must not draw: " << text;
  EXPECT_NE(text.find("2.0/10.0 s"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n') << "finish ends the line";
}

}  // namespace
}  // namespace sensorgate::sim
