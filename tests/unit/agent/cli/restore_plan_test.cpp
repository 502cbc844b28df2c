#include "agent/cli/restore_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace postwarden::agent::cli {
namespace {

using planner::ChangeKind;
using planner::PostfixConfig;

const std::string kMaster =
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "pickup    unix  n       -       y       60      1       pickup\n";

Result<planner::Plan> plan(const PostfixConfig& live, const PostfixConfig& backup) {
  return restorePlan("20260105T101500Z-42", live, backup, params::ParameterCatalog::builtin());
}

TEST(RestorePlanTest, EqualBytesNeedNoChange) {
  PostfixConfig config{"myhostname = mx.example.org\n", kMaster};
  Result<planner::Plan> p = plan(config, config);
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_TRUE(p->compliant());
}

TEST(RestorePlanTest, TheBackupBecomesTheAfterBytes) {
  PostfixConfig live{"smtpd_tls_auth_only = yes\nmyhostname = mx\n", kMaster};
  PostfixConfig backup{"myhostname = mx\nsmtpd_banner = old\n", kMaster};
  Result<planner::Plan> p = plan(live, backup);
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_EQ(p->main_cf_before, live.main_cf);
  EXPECT_EQ(p->main_cf_after, backup.main_cf);
  EXPECT_EQ(p->master_cf_after, backup.master_cf);
  ASSERT_EQ(p->changes.size(), 2u);
  EXPECT_EQ(p->changes[0].parameter, "smtpd_banner");
  EXPECT_EQ(p->changes[0].kind, ChangeKind::kSetMain);
  EXPECT_EQ(p->changes[1].parameter, "smtpd_tls_auth_only");
  EXPECT_EQ(p->changes[1].kind, ChangeKind::kRemoveMain);
  EXPECT_EQ(p->applyMode(), params::ApplyMode::kReload);
}

TEST(RestorePlanTest, RestartWhereReloadIsNotEnough) {
  PostfixConfig live{"inet_interfaces = all\n", kMaster};
  EXPECT_EQ(plan(live, {"inet_interfaces = loopback-only\n", kMaster})->applyMode(),
            params::ApplyMode::kRestart);
  // A listener that comes back needs a restart; -o options alone a reload.
  PostfixConfig no_submission{"", kMaster};
  PostfixConfig with_submission{
      "", kMaster + "submission inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n"};
  EXPECT_EQ(plan(no_submission, with_submission)->applyMode(), params::ApplyMode::kRestart);
  PostfixConfig other_option{
      "", kMaster + "submission inet n - y - - smtpd\n  -o smtpd_tls_security_level=may\n"};
  Result<planner::Plan> options_only = plan(with_submission, other_option);
  ASSERT_EQ(options_only->changes.size(), 1u);
  EXPECT_EQ(options_only->applyMode(), params::ApplyMode::kReload);
  EXPECT_EQ(plan(with_submission, no_submission)->applyMode(), params::ApplyMode::kRestart);
}

TEST(RestorePlanTest, CommentsAloneStillWriteTheFiles) {
  PostfixConfig live{"myhostname = mx\n", kMaster};
  PostfixConfig backup{"# the old comment\nmyhostname = mx\n", kMaster};
  Result<planner::Plan> p = plan(live, backup);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->compliant());
  EXPECT_EQ(p->applyMode(), params::ApplyMode::kReload);
}

TEST(RestorePlanTest, TheBackupsCertificatesAreCheckedBeforeTheSwap) {
  PostfixConfig live{"", kMaster};
  PostfixConfig backup{
      "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = /etc/ssl/mx.pem\n"
      "smtpd_tls_key_file = /etc/ssl/mx.key\n",
      kMaster};
  Result<planner::Plan> p = plan(live, backup);
  ASSERT_TRUE(p.ok()) << p.status().toString();
  ASSERT_EQ(p->tls_material.size(), 1u);
  EXPECT_EQ(p->tls_material[0].cert_file, "/etc/ssl/mx.pem");
}

}  // namespace
}  // namespace postwarden::agent::cli
