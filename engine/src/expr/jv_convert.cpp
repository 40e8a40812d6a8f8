#include "expr/jv_convert.hpp"

#include <cmath>

namespace ep::engine::detail {

namespace {

jv convert(const nlohmann::json& j, std::size_t& budget, bool& too_big)
{
    using t = nlohmann::json::value_t;
    switch (j.type())
    {
    case t::null: return jv_null();
    case t::boolean: return jv_bool(j.get<bool>());
    case t::number_integer: return jv_number(static_cast<double>(j.get<std::int64_t>()));
    case t::number_unsigned: return jv_number(static_cast<double>(j.get<std::uint64_t>()));
    case t::number_float: return jv_number(j.get<double>());
    case t::string:
    {
        const auto& s = j.get_ref<const std::string&>();
        if (s.size() > budget)
        {
            too_big = true;
            return jv_null();
        }
        budget -= s.size();
        return jv_string_sized(s.data(), static_cast<int>(s.size()));
    }
    case t::array:
    {
        jv out = jv_array();
        for (const auto& e : j)
            out = jv_array_append(out, convert(e, budget, too_big));
        return out;
    }
    case t::object:
    {
        jv out = jv_object();
        for (auto it = j.begin(); it != j.end(); ++it)
            out = jv_object_set(out, jv_string_sized(it.key().data(), static_cast<int>(it.key().size())),
                                convert(it.value(), budget, too_big));
        return out;
    }
    default: return jv_null();  // binary / discarded: not produced by EP
    }
}

}  // namespace

jv to_jv(const nlohmann::json& j, std::size_t max_bytes)
{
    bool too_big = false;
    jv out = convert(j, max_bytes, too_big);
    if (too_big)
    {
        jv_free(out);
        return jv_invalid();
    }
    return out;
}

nlohmann::json from_jv(jv v)
{
    nlohmann::json out;
    switch (jv_get_kind(v))
    {
    case JV_KIND_NULL: break;
    case JV_KIND_FALSE: out = false; break;
    case JV_KIND_TRUE: out = true; break;
    case JV_KIND_NUMBER:
    {
        const double d = jv_number_value(v);
        if (!std::isfinite(d))
            break;
        if (d == std::floor(d) && std::fabs(d) < 9.0e15)
            out = static_cast<std::int64_t>(d);
        else
            out = d;
        break;
    }
    case JV_KIND_STRING: out = std::string(jv_string_value(v), static_cast<std::size_t>(jv_string_length_bytes(jv_copy(v)))); break;
    case JV_KIND_ARRAY:
    {
        out = nlohmann::json::array();
        const int n = jv_array_length(jv_copy(v));
        for (int i = 0; i < n; ++i)
            out.push_back(from_jv(jv_array_get(jv_copy(v), i)));
        break;
    }
    case JV_KIND_OBJECT:
    {
        out = nlohmann::json::object();
        jv_object_foreach(v, key, value)
        {
            out[jv_string_value(key)] = from_jv(value);
            jv_free(key);
        }
        break;
    }
    default: break;
    }
    jv_free(v);
    return out;
}

}  // namespace ep::engine::detail
