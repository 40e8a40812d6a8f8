// The PostgreSQL side of the store's errors: SQLSTATE codes as error_codes, and their mapping
// to the persistence_errc callers act on.

#include <ep/persistence/error.hpp>

#include <string>

namespace ep::persistence {

namespace {

constexpr std::string_view sqlstate_digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

// SQLSTATE codes are five characters of [0-9A-Z]: base 36 fits an int.
int encode(std::string_view sqlstate) noexcept
{
    int value = 0;
    for (char c : sqlstate.substr(0, 5))
    {
        const auto digit = sqlstate_digits.find(c);
        value = value * 36 + static_cast<int>(digit == std::string_view::npos ? 0 : digit);
    }
    return value;
}

std::string decode(int value)
{
    std::string out(5, '0');
    for (int i = 4; i >= 0 && value > 0; --i, value /= 36)
        out[static_cast<std::size_t>(i)] = sqlstate_digits[static_cast<std::size_t>(value % 36)];
    return out;
}

class postgres_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "postgres"; }
    std::string message(int ev) const override { return "SQLSTATE " + decode(ev); }
};

}  // namespace

const boost::system::error_category& postgres_category() noexcept
{
    static const postgres_category_impl instance;
    return instance;
}

boost::system::error_code make_postgres_error_code(std::string_view sqlstate) noexcept
{
    return {encode(sqlstate), postgres_category()};
}

persistence_errc classify_postgres_error(std::string_view sqlstate) noexcept
{
    const auto cls = sqlstate.substr(0, 2);
    if (sqlstate == "53100")
        return persistence_errc::disk_full;  // disk_full
    if (sqlstate == "25006" || sqlstate == "42501")
        return persistence_errc::read_only;  // read_only_sql_transaction, insufficient_privilege
    if (sqlstate == "55P03" || sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "57014")
        return persistence_errc::busy;  // lock_not_available, serialization, deadlock, statement timeout
    if (sqlstate == "3D000" || sqlstate == "42P01")
        return persistence_errc::not_found;  // no such database / table
    if (sqlstate == "XX001" || sqlstate == "XX002")
        return persistence_errc::corrupt;  // data_corrupted, index_corrupted
    if (cls == "23" || cls == "22")
        return persistence_errc::invalid_argument;  // integrity constraint, data exception
    return persistence_errc::io_error;
}

}  // namespace ep::persistence
