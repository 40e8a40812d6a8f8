#pragma once
// The PostgreSQL server the Postgres tests use, and a schema of its own per test.
//
// The server comes from EP_TEST_PG_URI (any libpq URI, e.g. a developer's own server), or
// else from the state directory EP_TEST_PG_STATE that tests/support/pg_cluster.sh filled (ctest
// starts that throwaway cluster as a fixture). Without either, or when the script found no
// PostgreSQL binaries, the tests skip and say why.

#include <memory>
#include <optional>
#include <string>

namespace ep::persistence::conformance {

/// The server's base URI, or nullopt with the reason in `why`.
std::optional<std::string> postgres_server_uri(std::string& why);

/// A schema of its own on the server, dropped (with everything in it) on destruction. Stores
/// opened with uri() keep their tables there (the URI sets search_path).
class postgres_schema
{
public:
    postgres_schema(const std::string& server_uri, const std::string& test_id);
    ~postgres_schema();
    postgres_schema(const postgres_schema&) = delete;
    postgres_schema& operator=(const postgres_schema&) = delete;

    /// The server URI with this schema as the search path.
    const std::string& uri() const { return uri_; }
    const std::string& name() const { return name_; }
    /// Runs SQL in the schema through a connection of its own. Fails the test on error.
    void exec(const std::string& sql) const;

private:
    std::string server_;
    std::string name_;
    std::string uri_;
};

/// `uri` with one more query parameter.
std::string with_parameter(const std::string& uri, const std::string& parameter);

}  // namespace ep::persistence::conformance
