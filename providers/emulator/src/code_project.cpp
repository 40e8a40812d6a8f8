#include "code_project.hpp"

namespace ep::emulator::detail {

namespace {

// First pass: split() keeps case and punctuation, so "Hello, hello" is two different words.
constexpr const char* buggy_module = R"py("""Word statistics: count the words of a text and find the most common ones."""
from collections import Counter


def count_words(text):
    """How often each word occurs in text."""
    return Counter(text.split())


def most_common(text, n):
    """The n most common words of text with their counts, most common first."""
    if n < 0:
        raise ValueError("n must be >= 0")
    return count_words(text).most_common(n)
)py";

constexpr const char* buggy_tests = R"py(import unittest

from wordstats import count_words, most_common


class CountWordsTest(unittest.TestCase):
    def test_counts_words_ignoring_case_and_punctuation(self):
        self.assertEqual(count_words("Hello, hello world!"), {"hello": 2, "world": 1})

    def test_empty_text_has_no_words(self):
        self.assertEqual(count_words(""), {})


class MostCommonTest(unittest.TestCase):
    def test_most_common_first(self):
        self.assertEqual(most_common("b a b c b a", 2), [("b", 3), ("a", 2)])


if __name__ == "__main__":
    unittest.main()
)py";

constexpr const char* fixed_module = R"py("""Word statistics: count the words of a text and find the most common ones."""
import re
from collections import Counter

_WORD = re.compile(r"[a-z0-9']+")


def words(text):
    """The words of text, lower-cased, without punctuation."""
    return _WORD.findall(text.lower())


def count_words(text):
    """How often each word occurs in text."""
    return Counter(words(text))


def most_common(text, n):
    """The n most common words of text with their counts, most common first."""
    if n < 0:
        raise ValueError("n must be >= 0")
    return count_words(text).most_common(n)
)py";

constexpr const char* fixed_tests = R"py(import unittest

from wordstats import count_words, most_common, words


class WordsTest(unittest.TestCase):
    def test_lower_cases_and_drops_punctuation(self):
        self.assertEqual(words("Hello, World! It's"), ["hello", "world", "it's"])


class CountWordsTest(unittest.TestCase):
    def test_counts_words_ignoring_case_and_punctuation(self):
        self.assertEqual(count_words("Hello, hello world!"), {"hello": 2, "world": 1})

    def test_empty_text_has_no_words(self):
        self.assertEqual(count_words(""), {})


class MostCommonTest(unittest.TestCase):
    def test_most_common_first(self):
        self.assertEqual(most_common("b a b c b a", 2), [("b", 3), ("a", 2)])

    def test_negative_n_is_refused(self):
        with self.assertRaises(ValueError):
            most_common("a b", -1)


if __name__ == "__main__":
    unittest.main()
)py";

}  // namespace

bool wants_python_unittest(const std::string& prompt_lower)
{
    return prompt_lower.find("python") != std::string::npos && prompt_lower.find("unittest") != std::string::npos;
}

std::string python_project_answer(bool revised)
{
    std::string out = revised ? "The revised module and its tests.\n\n" : "The module and its tests.\n\n";
    out += "`wordstats.py`\n```python\n";
    out += revised ? fixed_module : buggy_module;
    out += "```\n\n`test_wordstats.py`\n```python\n";
    out += revised ? fixed_tests : buggy_tests;
    out += "```\n";
    return out;
}

}  // namespace ep::emulator::detail
