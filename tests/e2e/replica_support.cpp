#include "tests/e2e/replica_support.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdint>
#include <iostream>
#include <vector>

#include "agent/link/outbox.h"
#include "common/os/posix_file_system.h"

namespace postwarden::testing {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string queryText(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string out;
  PGresult* result = PQexec(conn, sql.c_str());
  if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) > 0) {
    out = PQgetvalue(result, 0, 0);
  } else {
    ADD_FAILURE() << sql << ": " << PQerrorMessage(conn);
  }
  PQclear(result);
  PQfinish(conn);
  return out;
}

int historyCount(Controller& c, const std::string& id, const std::string& kind,
                 const std::string& needle) {
  auto stub = c.operatorStub();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetAgentRequest request;
  request.set_id(id);
  v1::GetAgentResponse response;
  if (!stub->GetAgent(&context, request, &response).ok()) return -1;
  int n = 0;
  for (const v1::HistoryEntry& e : response.history()) {
    n += e.kind() == kind && e.summary().find(needle) != std::string::npos ? 1 : 0;
  }
  return n;
}

void expectOutboxStoredOnce(FleetAgent& agent, const std::string& conninfo) {
  ASSERT_EQ(agent.stop(), 0) << agent.log();
  os::PosixFileSystem files;
  auto outbox = agent::link::Outbox::open(files, agent.stateDir() + "/outbox", 10000);
  ASSERT_TRUE(outbox.ok()) << outbox.status().message();
  // Stored as bigint: an epoch above 2^63 reads back negative.
  const std::string where = " FROM reports WHERE agent_id = '" + agent.id() + "' AND epoch = " +
                            std::to_string(static_cast<int64_t>((*outbox)->epoch()));
  const uint64_t stored_max = std::stoull(queryText(conninfo, "SELECT max(seq)" + where));
  EXPECT_EQ(queryText(conninfo, "SELECT count(*) = max(seq) - min(seq) + 1" + where), "t");
  // Pending above the stored: not yet delivered; pending at or below: stored, its ack not yet
  // seen (a redelivery is then dropped as a duplicate).
  uint64_t undelivered = 0;
  for (const agent::link::OutboxEntry& e : (*outbox)->pending()) {
    undelivered += e.seq > stored_max ? 1 : 0;
  }
  EXPECT_EQ(stored_max + undelivered, (*outbox)->lastSeq()) << agent.id();
  EXPECT_EQ(queryText(conninfo, "SELECT last_seq FROM agents WHERE id = '" + agent.id() + "'"),
            std::to_string(stored_max));
  std::cout << "[ figures  ] " << agent.id() << ": "
            << queryText(conninfo, "SELECT count(*)" + where) << " reports stored, " << undelivered
            << " still pending\n";
}

}  // namespace postwarden::testing
