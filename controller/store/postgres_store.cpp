#include "controller/store/postgres_store.h"

#include <memory>
#include <utility>

#include "controller/store/postgres_db.h"
#include "controller/store/postgres_rows.h"
#include "controller/store/text.h"

namespace postwarden::controller::store {

using namespace pg;  // NOLINT: the PostgreSQL layer of this one class

// What is not a table's: opening (the schema is postgres_rows.cpp) and tokens. The other
// operations are by table: postgres_agents.cpp, postgres_reports.cpp, postgres_baselines.cpp.

PostgresStore::PostgresStore(std::string conninfo, std::unique_ptr<Pool> pool,
                             const PostgresOptions& options)
    : conninfo_(std::move(conninfo)), pool_(std::move(pool)), options_(options) {
  if (options_.report_connection) {
    report_pool_ = std::make_unique<Pool>(conninfo_, 1, options_.statement_timeout_ms);
  }
}

PostgresStore::~PostgresStore() = default;

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const std::string& conninfo,
                                                           const PostgresOptions& options) {
  auto pool = std::make_unique<Pool>(conninfo, options.pool_size, options.statement_timeout_ms);
  {
    PW_ASSIGN_OR_RETURN(Pool::Lease conn, pool->acquire());
    PW_RETURN_IF_ERROR(migrate(*conn).withContext("migrating the PostgreSQL schema"));
  }
  return std::unique_ptr<PostgresStore>(new PostgresStore(conninfo, std::move(pool), options));
}

Result<int> PostgresStore::storedSchemaVersion(const std::string& conninfo) {
  PW_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::open(conninfo, 10000));
  return schemaVersion(*conn);
}

Status PostgresStore::createToken(const TokenRecord& token) {
  if (token.id.empty()) return InvalidArgumentError("token id is empty");
  PW_RETURN_IF_ERROR(checkText(token));
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(Rows rows, db->exec(std::string("INSERT INTO tokens (") + kTokenColumns +
                                              ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                                              "ON CONFLICT (id) DO NOTHING",
                                          Params()
                                              .text(token.id)
                                              .text(token.secret_sha256)
                                              .text(encodeLabels(token.labels))
                                              .integer(token.created_at)
                                              .integer(token.expires_at)
                                              .integer(token.uses_left)
                                              .boolean(token.revoked)
                                              .text(token.bound_agent_id)));
  if (rows.affected() == 0) return AlreadyExistsError("token '" + token.id + "' already exists");
  return OkStatus();
}

Result<std::vector<TokenRecord>> PostgresStore::listTokens() {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(
      Rows rows, db->exec(std::string("SELECT ") + kTokenColumns + " FROM tokens ORDER BY id"));
  std::vector<TokenRecord> tokens;
  for (int r = 0; r < rows.size(); ++r) {
    PW_ASSIGN_OR_RETURN(TokenRecord token, tokenFromRow(rows, r));
    tokens.push_back(std::move(token));
  }
  return tokens;
}

Status PostgresStore::revokeToken(const std::string& id) {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(
      Rows rows, db->exec("UPDATE tokens SET revoked = true WHERE id = $1", Params().text(id)));
  if (rows.affected() == 0) return NotFoundError("token '" + id + "' not found");
  return OkStatus();
}

}  // namespace postwarden::controller::store
