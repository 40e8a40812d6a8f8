// The conformance suite on PostgreSQL: a schema of its own per test on the test server.

#include "conformance.hpp"
#include "postgres_server.hpp"

#include <pqxx/pqxx>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <unistd.h>

namespace ep::persistence::conformance {

namespace {

std::string read_first_line(const std::string& path)
{
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace

std::optional<std::string> postgres_server_uri(std::string& why)
{
    if (const char* uri = std::getenv("EP_TEST_PG_URI"); uri != nullptr && *uri != '\0')
        return std::string(uri);
    const char* state = std::getenv("EP_TEST_PG_STATE");
    if (state == nullptr || *state == '\0')
    {
        why = "no PostgreSQL server: set EP_TEST_PG_URI, or EP_TEST_PG_STATE to a directory that "
              "tests/support/pg_cluster.sh start filled (ctest does both for you)";
        return std::nullopt;
    }
    if (auto uri = read_first_line(std::string(state) + "/uri"); !uri.empty())
        return uri;
    why = read_first_line(std::string(state) + "/skip");
    if (why.empty())
        why =
            std::string("no PostgreSQL server: ") + state + "/uri is missing (did pg_cluster.sh start run?)";
    return std::nullopt;
}

std::string with_parameter(const std::string& uri, const std::string& parameter)
{
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + parameter;
}

postgres_schema::postgres_schema(const std::string& server_uri, const std::string& test_id)
    : server_(server_uri)
{
    // Identifiers are at most 63 bytes: a short hash of the test's id keeps them unique.
    name_ = "ep_t" + std::to_string(::getpid()) + "_" +
            std::to_string(std::hash<std::string>{}(test_id) % 1000000007);
    uri_ = with_parameter(server_, "options=-csearch_path%3D" + name_);
    pqxx::connection c(server_);
    pqxx::nontransaction n(c);
    n.exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE; CREATE SCHEMA " + name_);
}

postgres_schema::~postgres_schema()
{
    try
    {
        pqxx::connection c(server_);
        pqxx::nontransaction n(c);
        n.exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    }
    catch (const std::exception& e)
    {
        ADD_FAILURE() << "dropping schema " << name_ << ": " << e.what();
    }
}

void postgres_schema::exec(const std::string& sql) const
{
    try
    {
        pqxx::connection c(uri_);
        pqxx::nontransaction n(c);
        n.exec(sql);
    }
    catch (const std::exception& e)
    {
        ADD_FAILURE() << e.what() << " in: " << sql;
    }
}

namespace {

class postgres_backend final : public backend
{
public:
    postgres_backend(const std::string& server, const std::string& test_id) : schema_(server, test_id) {}

    std::string uri() const override { return schema_.uri(); }
    void exec(const std::string& sql) override { schema_.exec(sql); }

    void fail_inserts_of_event_type(const std::string& type) override
    {
        schema_.exec("CREATE FUNCTION ep_test_fail_" + type +
                     "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.type = '" + type +
                     "' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;"
                     " CREATE TRIGGER ep_test_fail_" +
                     type + " BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION ep_test_fail_" + type +
                     "()");
    }

private:
    postgres_schema schema_;
};

const backend_factory postgres_factory{
    "postgres", [](const std::string& test_id, std::string& why) -> std::unique_ptr<backend> {
        const auto server = postgres_server_uri(why);
        if (!server)
            return nullptr;
        return std::make_unique<postgres_backend>(*server, test_id);
    }};

}  // namespace

EP_STORE_CONFORMANCE_INSTANTIATE(postgres, postgres_factory);

}  // namespace ep::persistence::conformance
