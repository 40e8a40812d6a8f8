#include <ep/persistence/error.hpp>

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

namespace ep::persistence {

namespace {

class persistence_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "ep.persistence"; }

    std::string message(int ev) const override
    {
        switch (static_cast<persistence_errc>(ev))
        {
        case persistence_errc::not_found: return "not found";
        case persistence_errc::schema_too_new: return "the database was created by a newer version of EP";
        case persistence_errc::corrupt: return "the database file is corrupt or not a database";
        case persistence_errc::read_only: return "the database is read-only";
        case persistence_errc::disk_full: return "the disk (or the database size limit) is full";
        case persistence_errc::busy: return "the database is locked by another process";
        case persistence_errc::lease_held: return "the run is owned by another live process";
        case persistence_errc::invalid_state: return "the operation contradicts the stored state";
        case persistence_errc::invalid_argument: return "invalid argument";
        case persistence_errc::io_error: return "database I/O error";
        }
        return "unknown persistence error";
    }
};

}  // namespace

const boost::system::error_category& persistence_category() noexcept
{
    static const persistence_category_impl instance;
    return instance;
}

std::string store_error::to_string() const
{
    std::string out = message;
    if (code)
    {
        if (!out.empty())
            out += " ";
        // Appended piecewise: g++ 12 -O3 reports a false -Wrestrict on "(" + str + ")".
        out += '(';
        out += code.message();
        out += ')';
    }
    return out;
}

void throw_exception_from_error(const store_error& e, const boost::source_location& loc)
{
    boost::throw_exception(boost::system::system_error(e.code, e.message), loc);
}

}  // namespace ep::persistence
