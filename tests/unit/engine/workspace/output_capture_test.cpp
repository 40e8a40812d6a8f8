// The sans-I/O output pieces: the capped tail and the redacting buffer, fed at every split.
#include "workspace/output_capture.hpp"
#include "workspace/utf8.hpp"

#include <gtest/gtest.h>

namespace ep::engine::detail {
namespace {

TEST(tail_buffer, keeps_everything_under_the_cap)
{
    tail_buffer t(10);
    t.append("abc");
    t.append("def");
    EXPECT_EQ(t.text(), "abcdef");
    EXPECT_EQ(t.total(), 6u);
}

TEST(tail_buffer, keeps_the_tail_and_says_how_much_was_dropped)
{
    tail_buffer t(5);
    for (int i = 0; i < 100; ++i)
        t.append("0123456789");
    EXPECT_EQ(t.text(), "[… 995 bytes dropped …]\n56789");
    EXPECT_EQ(t.total(), 1000u);
    tail_buffer big(5);
    big.append(std::string(50, 'x') + "tail!");
    EXPECT_EQ(big.text(), "[… 50 bytes dropped …]\ntail!");
}

TEST(tail_buffer, never_starts_inside_a_utf8_character)
{
    tail_buffer t(4);
    t.append("abc\xc3\xa9\xc3\xa9");  // abcéé: the last 4 bytes are "éé"; 5 would cut é
    EXPECT_EQ(t.text(), "[… 3 bytes dropped …]\n\xc3\xa9\xc3\xa9");
    tail_buffer u(3);
    u.append("a\xc3\xa9xy");  // the last 3 bytes start inside é
    EXPECT_EQ(u.text(), "[… 3 bytes dropped …]\nxy");
}

/// Feeds `input` split at `cut` and collects what take() lets through.
std::string feed_split(const std::string& input, std::size_t cut, const std::vector<std::string>& secrets)
{
    redacting_buffer b(secrets);
    std::string out;
    b.append(input.substr(0, cut));
    out += b.take(false);
    b.append(input.substr(cut));
    out += b.take(false);
    out += b.take(true);
    return out;
}

TEST(redacting_buffer, never_lets_a_secret_through_at_any_split)
{
    const std::vector<std::string> secrets = {"sk-secret-1234", "AIzaKEY9"};
    const std::string input = "a sk-secret-1234 b AIzaKEY9 c sk-secret-123 d";
    const std::string expected = "a [REDACTED] b [REDACTED] c sk-secret-123 d";
    for (std::size_t cut = 0; cut <= input.size(); ++cut)
        EXPECT_EQ(feed_split(input, cut, secrets), expected) << "split at " << cut;
}

TEST(redacting_buffer, holds_back_only_a_possible_secret_prefix)
{
    redacting_buffer b({"sk-secret-1234"});
    b.append("hello sk-sec");
    EXPECT_EQ(b.take(false), "hello ");
    b.append("ond thing");
    EXPECT_EQ(b.take(false), "sk-second thing");
}

TEST(redacting_buffer, delivers_valid_utf8_only_and_waits_for_split_characters)
{
    const std::string input = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 end";
    for (std::size_t cut = 0; cut <= input.size(); ++cut)
        EXPECT_EQ(feed_split(input, cut, {}), input) << "split at " << cut;
    redacting_buffer b({});
    b.append("bad \xff\xfe bytes \xc3");
    EXPECT_EQ(b.take(false), "bad \xef\xbf\xbd\xef\xbf\xbd bytes ");
    EXPECT_EQ(b.take(true), "\xef\xbf\xbd");
}

TEST(utf8, strict_validation_refuses_overlong_forms_and_surrogates)
{
    EXPECT_TRUE(is_valid_utf8("plain \xc3\xa9 \xf4\x8f\xbf\xbf"));
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_EQ(incomplete_utf8_suffix("a\xe2\x82"), 2u);
    EXPECT_EQ(incomplete_utf8_suffix("a\xe2\x82\xac"), 0u);
    EXPECT_EQ(incomplete_utf8_suffix("a\xf0"), 1u);
}

}  // namespace
}  // namespace ep::engine::detail
