#include "controller/rpc/identity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "controller/rpc/status_mapping.h"

namespace postwarden::controller::rpc {
namespace {

using ::testing::HasSubstr;

TEST(IdentityTest, AgentCertificate) {
  Result<Peer> peer = peerFromSubject("mx1.example.org", "agent");
  ASSERT_TRUE(peer.ok()) << peer.status().toString();
  EXPECT_EQ(peer->kind, PeerKind::kAgent);
  EXPECT_EQ(peer->id, "mx1.example.org");
  EXPECT_EQ(peer->role, Role::kNone);
}

TEST(IdentityTest, SimulatorCertificate) {
  Result<Peer> peer = peerFromSubject("fleetsim", "simulator");
  ASSERT_TRUE(peer.ok()) << peer.status().toString();
  EXPECT_EQ(peer->kind, PeerKind::kSimulator);
  EXPECT_EQ(peer->id, "fleetsim");
  EXPECT_EQ(peer->role, Role::kNone);
}

TEST(IdentityTest, OperatorCertificateCarriesItsRole) {
  struct Case {
    const char* unit;
    Role role;
  };
  for (Case c :
       {Case{"operator:viewer", Role::kViewer}, Case{"operator:operator", Role::kOperator},
        Case{"operator:approver", Role::kApprover}, Case{"operator:admin", Role::kAdmin}}) {
    Result<Peer> peer = peerFromSubject("alice", c.unit);
    ASSERT_TRUE(peer.ok()) << c.unit << ": " << peer.status().toString();
    EXPECT_EQ(peer->kind, PeerKind::kOperator) << c.unit;
    EXPECT_EQ(peer->id, "alice") << c.unit;
    EXPECT_EQ(peer->role, c.role) << c.unit;
  }
}

TEST(IdentityTest, OperatorCertificateWithUnknownRoleIsUnauthenticated) {
  for (const char* unit :
       {"operator:bogus", "operator:", "operator:Admin", "operator:none", "operator:admin "}) {
    Result<Peer> peer = peerFromSubject("alice", unit);
    ASSERT_FALSE(peer.ok()) << unit;
    EXPECT_EQ(peer.status().code(), StatusCode::kUnauthenticated) << unit;
  }
  EXPECT_THAT(peerFromSubject("alice", "operator:bogus").status().message(), HasSubstr("bogus"));
}

TEST(IdentityTest, UnknownUnitIsUnauthenticated) {
  for (const char* unit : {"", "Agent", "agents", "operator", "admin", "simulator:x", " agent"}) {
    Result<Peer> peer = peerFromSubject("mx1", unit);
    ASSERT_FALSE(peer.ok()) << "'" << unit << "'";
    EXPECT_EQ(peer.status().code(), StatusCode::kUnauthenticated) << "'" << unit << "'";
  }
}

TEST(IdentityTest, EmptyCommonNameIsUnauthenticated) {
  for (const char* unit : {"agent", "simulator", "operator:admin"}) {
    Result<Peer> peer = peerFromSubject("", unit);
    ASSERT_FALSE(peer.ok()) << unit;
    EXPECT_EQ(peer.status().code(), StatusCode::kUnauthenticated) << unit;
  }
}

TEST(IdentityTest, DescribeNamesKindIdAndAddress) {
  Peer agent{.kind = PeerKind::kAgent, .id = "mx1", .address = "ipv4:127.0.0.1:51234"};
  EXPECT_EQ(agent.describe(), "agent mx1 (ipv4:127.0.0.1:51234)");
  Peer op{.kind = PeerKind::kOperator, .id = "alice", .role = Role::kAdmin};
  EXPECT_EQ(op.describe(), "operator alice");
  Peer sim{.kind = PeerKind::kSimulator, .id = "fleetsim"};
  EXPECT_EQ(sim.describe(), "simulator fleetsim");
}

Peer operatorWith(Role role) {
  return Peer{.kind = PeerKind::kOperator, .id = "alice", .role = role};
}

TEST(IdentityTest, AuthorizeFollowsRoleOrdering) {
  const Role roles[] = {Role::kViewer, Role::kOperator, Role::kApprover, Role::kAdmin};
  for (Role have : roles) {
    for (Role need : roles) {
      Status status = authorize(operatorWith(have), need, "do things");
      if (static_cast<int>(have) >= static_cast<int>(need)) {
        EXPECT_TRUE(status.ok()) << roleName(have) << " needs " << roleName(need) << ": "
                                 << status.toString();
      } else {
        EXPECT_EQ(status.code(), StatusCode::kPermissionDenied)
            << roleName(have) << " needs " << roleName(need);
      }
    }
  }
  EXPECT_TRUE(authorize(operatorWith(Role::kViewer), Role::kViewer, "list agents").ok());
  EXPECT_EQ(authorize(operatorWith(Role::kViewer), Role::kOperator, "push baselines").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(authorize(operatorWith(Role::kOperator), Role::kApprover, "assign").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(authorize(operatorWith(Role::kApprover), Role::kAdmin, "revoke").code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(authorize(operatorWith(Role::kAdmin), Role::kAdmin, "revoke").ok());
}

TEST(IdentityTest, AuthorizeMessageNamesRoleAndAction) {
  Status status = authorize(operatorWith(Role::kViewer), Role::kApprover, "assign baselines");
  EXPECT_THAT(status.message(), HasSubstr("viewer"));
  EXPECT_THAT(status.message(), HasSubstr("approver"));
  EXPECT_THAT(status.message(), HasSubstr("assign baselines"));
}

TEST(IdentityTest, AuthorizeRefusesNonOperators) {
  Peer agent{.kind = PeerKind::kAgent, .id = "mx1"};
  Peer sim{.kind = PeerKind::kSimulator, .id = "fleetsim"};
  // Even with a role set by mistake, only operators are authorized.
  Peer agent_with_role{.kind = PeerKind::kAgent, .id = "mx1", .role = Role::kAdmin};
  for (const Peer& p : {agent, sim, agent_with_role}) {
    Status status = authorize(p, Role::kViewer, "list agents");
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << p.describe();
    EXPECT_THAT(status.message(), HasSubstr("only operators")) << p.describe();
  }
  EXPECT_EQ(authorize(operatorWith(Role::kNone), Role::kViewer, "list agents").code(),
            StatusCode::kPermissionDenied);
}

TEST(IdentityTest, RoleNamesRoundTrip) {
  for (Role role : {Role::kViewer, Role::kOperator, Role::kApprover, Role::kAdmin}) {
    Result<Role> parsed = parseRole(roleName(role));
    ASSERT_TRUE(parsed.ok()) << roleName(role);
    EXPECT_EQ(*parsed, role);
  }
  EXPECT_EQ(roleName(Role::kViewer), "viewer");
  EXPECT_EQ(roleName(Role::kOperator), "operator");
  EXPECT_EQ(roleName(Role::kApprover), "approver");
  EXPECT_EQ(roleName(Role::kAdmin), "admin");
  EXPECT_EQ(roleName(Role::kNone), "none");
}

TEST(IdentityTest, ParseRoleRejectsUnknownNames) {
  for (const char* name : {"", "none", "Admin", "ADMIN", "root", "admin ", "view"}) {
    Result<Role> role = parseRole(name);
    ASSERT_FALSE(role.ok()) << "'" << name << "'";
    EXPECT_EQ(role.status().code(), StatusCode::kInvalidArgument) << "'" << name << "'";
  }
}

TEST(StatusMappingTest, ToGrpcKeepsCodeAndMessage) {
  EXPECT_TRUE(toGrpc(OkStatus()).ok());
  grpc::Status denied = toGrpc(PermissionDeniedError("nope"));
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message(), "nope");
  EXPECT_EQ(toGrpc(Status(StatusCode::kUnauthenticated, "who")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace postwarden::controller::rpc
