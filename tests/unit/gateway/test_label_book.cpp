#include "sensorgate/gateway/label_book.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "sensorgate/testing/fuzz_reproducer.hpp"

namespace sensorgate {
namespace {

TEST(LabelBook, Majority_WindowSpanningTwoLabels_LabelCoveringMostWins) {
  LabelBook book;
  book.add({"d", 0, 600, 1});
  book.add({"d", 600, 1000, 0});
  EXPECT_EQ(book.majority("d", 0, 1000), 1);
  EXPECT_EQ(book.majority("d", 500, 1000), 0);  // 100 of label 1, 400 of label 0
  EXPECT_EQ(book.majority("d", 600, 700), 0);
}

TEST(LabelBook, Majority_TieBetweenLabels_SmallerLabel) {
  LabelBook book;
  book.add({"d", 0, 500, 3});
  book.add({"d", 500, 1000, 2});
  EXPECT_EQ(book.majority("d", 0, 1000), 2);
}

TEST(LabelBook, Majority_NoOverlapOrOtherDevice_Nullopt) {
  LabelBook book;
  book.add({"d", 100, 200, 1});
  EXPECT_FALSE(book.majority("d", 200, 300).has_value());  // end is exclusive
  EXPECT_FALSE(book.majority("d", 0, 100).has_value());
  EXPECT_FALSE(book.majority("other", 100, 200).has_value());
}

TEST(LabelBook, Add_BeyondRetention_OldLabelsForgotten) {
  LabelBook book(1000);
  book.add({"d", 0, 100, 1});
  book.add({"d", 5000, 5100, 0});
  EXPECT_FALSE(book.majority("d", 0, 100).has_value());
  EXPECT_EQ(book.majority("d", 5000, 5100), 0);
  EXPECT_EQ(book.added(), 2U);
}

TEST(ParseLabelMessage, ValidJson_Interval) {
  std::string error;
  const auto label = parse_label_message("dev", R"({"start_ns":10,"end_ns":20,"label":1})", error);
  ASSERT_TRUE(label.has_value()) << error;
  EXPECT_EQ(label->device_id, "dev");
  EXPECT_EQ(label->start_ns, 10);
  EXPECT_EQ(label->end_ns, 20);
  EXPECT_EQ(label->label, 1);
}

TEST(ParseLabelMessage, BadInput_RefusedWithReason) {
  for (const char* bad : {"", "nope", "[]", R"({"start_ns":10,"end_ns":20})",
                          R"({"start_ns":20,"end_ns":10,"label":1})", R"({"start_ns":10,"end_ns":20,"label":-1})",
                          R"({"start_ns":"10","end_ns":20,"label":1})", R"({"start_ns":10.5,"end_ns":20,"label":1})"}) {
    std::string error;
    EXPECT_FALSE(parse_label_message("dev", bad, error).has_value()) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

// fuzz/regressions/label_message/start-near-int64-min, fed to fuzz_label_message: a label
// starting within the retention of the int64 minimum made LabelBook::add compute its
// forgetting horizon with a signed overflow (UBSan). The horizon saturates now.
TEST(LabelBook, LabelStartingNearInt64Min_AddedWithoutOverflow) {
  std::string error;
  const auto label =
      parse_label_message("dev", sensorgate::testing::fuzz_reproducer("label_message/start-near-int64-min"), error);
  ASSERT_TRUE(label.has_value()) << error;
  EXPECT_EQ(label->start_ns, std::numeric_limits<std::int64_t>::min());
  LabelBook book;
  book.add(*label);
  EXPECT_EQ(book.majority("dev", label->start_ns, label->start_ns + 1'000'000'000), label->label);
  // A label more than the retention (600 s) later makes the book forget the first one.
  book.add({"dev", 5, 10, 2});
  EXPECT_FALSE(book.majority("dev", label->start_ns, label->start_ns + 1'000'000'000).has_value());
  EXPECT_EQ(book.majority("dev", 5, 10), 2);
}

}  // namespace
}  // namespace sensorgate
