// open_store: picks the backend a store URI names and opens it with the shared options.

#include "postgres/store.hpp"

#include <ep/persistence/open_store.hpp>
#include <ep/persistence/sqlite_store.hpp>

namespace ep::persistence {

namespace {

result<std::unique_ptr<store>> open_sqlite(const std::string& path, const store_options& options)
{
    sqlite_options so;
    static_cast<store_options&>(so) = options;
    auto opened = sqlite_store::open(path, std::move(so));
    if (!opened)
        return std::move(opened).error();
    return std::unique_ptr<store>(std::move(*opened));
}

result<std::unique_ptr<store>> open_postgres(const std::string& uri, const store_options& options)
{
    auto opened = postgres_store::open(uri, options);
    if (!opened)
        return std::move(opened).error();
    return std::unique_ptr<store>(std::move(*opened));
}

}  // namespace

result<std::unique_ptr<store>> open_store(std::string_view uri, const store_options& options)
{
    auto where = parse_store_uri(uri);
    if (!where)
        return std::move(where).error();
    switch (where->backend)
    {
    case store_location::backend_kind::sqlite: return open_sqlite(where->target, options);
    case store_location::backend_kind::postgres: return open_postgres(where->target, options);
    }
    return store_error(make_error_code(persistence_errc::invalid_argument), "unknown store backend");
}

}  // namespace ep::persistence
