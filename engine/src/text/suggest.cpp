#include "text/suggest.hpp"

#include <algorithm>

namespace ep::engine::detail {

std::size_t edit_distance(std::string_view a, std::string_view b)
{
    // Optimal string alignment: Levenshtein plus adjacent transpositions ("tsak" -> "task" is 1),
    // the most common typo in keys and ids.
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j)
        {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates)
{
    std::optional<std::string> best;
    std::size_t best_distance = 0;
    for (const auto& c : candidates)
    {
        if (c == word)
            continue;
        auto d = edit_distance(word, c);
        auto longer = std::max(word.size(), c.size());
        if (d > 2 || d * 3 > longer)
            continue;
        if (!best || d < best_distance)
        {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates)
{
    auto m = closest_match(word, candidates);
    return m ? " (did you mean '" + *m + "'?)" : std::string{};
}

std::string join(const std::vector<std::string>& items, std::string_view separator)
{
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i)
    {
        if (i)
            out += separator;
        out += items[i];
    }
    return out;
}

}  // namespace ep::engine::detail
