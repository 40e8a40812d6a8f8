#include "text/suggest.hpp"

#include <ep/engine/error.hpp>
#include <ep/engine/inputs.hpp>

#include <charconv>
#include <cmath>
#include <fstream>
#include <set>

namespace ep::engine {
namespace {

std::optional<std::string> read_text_file(const std::filesystem::path& path, std::size_t max_bytes, std::string& why)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
    {
        why = "is a directory";
        return std::nullopt;
    }
    auto size = std::filesystem::file_size(path, ec);
    if (ec)
    {
        why = ec.message();
        return std::nullopt;
    }
    if (size > max_bytes)
    {
        why = "file is too large (limit " + std::to_string(max_bytes >> 20) + " MiB)";
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    std::string text(static_cast<std::size_t>(size), '\0');
    if (!in.read(text.data(), static_cast<std::streamsize>(size)))
    {
        why = "cannot read file";
        return std::nullopt;
    }
    return text;
}

std::string format_number(double d)
{
    if (d == std::floor(d) && std::fabs(d) < 1e15)
        return std::to_string(static_cast<long long>(d));
    auto s = std::to_string(d);
    while (!s.empty() && s.back() == '0')
        s.pop_back();
    return s;
}

}  // namespace

boost::system::result<input_values> bind_inputs(const workflow_spec& spec, const std::vector<std::string>& values,
                                                const std::vector<std::string>& files, std::vector<std::string>& errors,
                                                std::size_t max_file_bytes)
{
    const std::size_t before = errors.size();
    input_values bound;
    std::vector<std::string> names;
    for (const auto& in : spec.inputs)
        names.push_back(in.name);

    auto bind = [&](const std::string& arg, bool from_file) {
        const char* flag = from_file ? "--input-file" : "--input";
        auto eq = arg.find('=');
        if (eq == std::string::npos || eq == 0)
        {
            errors.push_back(std::string(flag) + " '" + arg + "': expected " + (from_file ? "KEY=PATH" : "KEY=VALUE"));
            return;
        }
        std::string key = arg.substr(0, eq);
        std::string value = arg.substr(eq + 1);
        const input_spec* in = spec.find_input(key);
        if (!in)
        {
            auto hint = detail::did_you_mean(key, names);
            errors.push_back(std::string(flag) + " " + key + ": the workflow has no input '" + key + "'" +
                             (hint.empty() ? (names.empty() ? std::string(" (it takes no inputs)")
                                                            : " (inputs: " + detail::join(names) + ")")
                                           : hint));
            return;
        }
        if (bound.count(key))
        {
            errors.push_back(std::string(flag) + " " + key + ": input '" + key + "' is given more than once");
            return;
        }
        input_value v;
        v.type = in->type;
        if (from_file || in->type == input_type::file)
        {
            std::string why;
            auto text = read_text_file(value, max_file_bytes, why);
            if (!text)
            {
                errors.push_back(std::string(flag) + " " + key + ": cannot read '" + value + "': " + why);
                return;
            }
            v.path = value;
            value = std::move(*text);
        }
        switch (in->type)
        {
        case input_type::string:
        case input_type::file:
            v.text = value;
            break;
        case input_type::number:
        {
            double d = 0;
            auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
            if (value.empty() || ec != std::errc{} || ptr != value.data() + value.size() || !std::isfinite(d))
            {
                errors.push_back(std::string(flag) + " " + key + ": input '" + key + "' must be a number, got '" +
                                 value + "'");
                return;
            }
            v.number = d;
            v.text = value;
            break;
        }
        case input_type::boolean:
            if (value == "true" || value == "yes" || value == "1")
                v.boolean = true;
            else if (value == "false" || value == "no" || value == "0")
                v.boolean = false;
            else
            {
                errors.push_back(std::string(flag) + " " + key + ": input '" + key +
                                 "' must be true or false, got '" + value + "'");
                return;
            }
            v.text = v.boolean ? "true" : "false";
            break;
        }
        bound[key] = std::move(v);
    };
    for (const auto& arg : values)
        bind(arg, false);
    for (const auto& arg : files)
        bind(arg, true);

    for (const auto& in : spec.inputs)
    {
        if (bound.count(in.name))
            continue;
        if (in.default_value)
        {
            input_value v;
            v.type = in.type;
            const auto& d = *in.default_value;
            if (d.is_boolean())
            {
                v.boolean = d.get<bool>();
                v.text = v.boolean ? "true" : "false";
            }
            else if (d.is_number())
            {
                v.number = d.get<double>();
                v.text = format_number(v.number);
            }
            else if (d.is_string())
            {
                v.text = d.get<std::string>();
                if (in.type == input_type::file)
                {
                    std::string why;
                    auto text = read_text_file(v.text, max_file_bytes, why);
                    if (!text)
                    {
                        errors.push_back("input '" + in.name + "': cannot read default file '" + v.text + "': " + why);
                        continue;
                    }
                    v.path = v.text;
                    v.text = std::move(*text);
                }
            }
            bound[in.name] = std::move(v);
        }
        else if (in.required)
            errors.push_back("missing required input '" + in.name + "' (give it with --input " + in.name +
                             (in.type == input_type::file ? "=PATH)" : "=VALUE)"));
        else
            bound[in.name] = input_value{in.type, "", 0, false, {}};  // optional: renders as ""
    }
    if (errors.size() != before)
        return make_error_code(workflow_errc::invalid_input);
    return bound;
}

std::map<std::string, std::string> input_texts(const input_values& values)
{
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : values)
        out[k] = v.text;
    return out;
}

}  // namespace ep::engine
