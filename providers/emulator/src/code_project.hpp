#pragma once
// The emulator's code writer for the implement → test → fix loop (workflows/implement-test-fix.yaml):
// when asked for Python with unittest tests, it writes a small real program and its tests as
// fenced files with their paths (the shipped code_writer's convention, which `files: true`
// extracts). The first version has a bug its own tests catch (words keep their case and
// punctuation); the version written after a review (the prompt carries findings RV-1, RV-2)
// fixes it, splits the word splitting out (RV-2) and tests the error path (RV-1), so
// `python3 -m unittest` fails on the first pass and passes on the second.

#include <string>

namespace ep::emulator::detail {

/// Whether a code writer's prompt asks for a Python program with unittest tests.
bool wants_python_unittest(const std::string& prompt_lower);

/// The answer: the files `wordstats.py` and `test_wordstats.py`, fixed when `revised`.
std::string python_project_answer(bool revised);

}  // namespace ep::emulator::detail
