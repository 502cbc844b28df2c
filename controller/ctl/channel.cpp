#include "controller/ctl/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

namespace postwarden::controller::ctl {
namespace {

constexpr size_t kMaxPemBytes = 1024 * 1024;

Result<std::string> readPem(const std::string& path, const char* what, const char* marker,
                            const FileReader& read) {
  Result<std::string> pem = read(path, kMaxPemBytes);
  if (!pem.ok()) return pem.status().withContext(what);
  if (pem->find(marker) == std::string::npos) {
    return InvalidArgumentError(std::string(what) + " '" + path + "': no PEM block (" + marker +
                                ") found");
  }
  return pem;
}

}  // namespace

Result<TlsMaterial> readTlsMaterial(const ConnectionSettings& settings, const FileReader& read) {
  TlsMaterial material;
  PW_ASSIGN_OR_RETURN(material.ca_pem,
                      readPem(settings.ca_file, "CA file", "-----BEGIN CERTIFICATE-----", read));
  PW_ASSIGN_OR_RETURN(material.cert_pem, readPem(settings.cert_file, "certificate file",
                                                 "-----BEGIN CERTIFICATE-----", read));
  // "BEGIN PRIVATE KEY", "BEGIN EC PRIVATE KEY", "BEGIN RSA PRIVATE KEY" all end alike.
  PW_ASSIGN_OR_RETURN(material.key_pem,
                      readPem(settings.key_file, "key file", "PRIVATE KEY-----", read));
  return material;
}

grpc::ChannelArguments channelArguments(const ConnectionSettings& settings) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  if (!settings.controller_name.empty()) args.SetSslTargetNameOverride(settings.controller_name);
  return args;
}

Result<std::shared_ptr<grpc::Channel>> makeControllerChannel(const ConnectionSettings& settings,
                                                             const FileReader& read) {
  PW_ASSIGN_OR_RETURN(TlsMaterial material, readTlsMaterial(settings, read));
  grpc::SslCredentialsOptions options;
  // Non-empty pem_root_certs: gRPC trusts exactly these roots, never the system store.
  options.pem_root_certs = material.ca_pem;
  options.pem_cert_chain = material.cert_pem;
  options.pem_private_key = material.key_pem;
  return grpc::CreateCustomChannel(settings.controller, grpc::SslCredentials(options),
                                   channelArguments(settings));
}

}  // namespace postwarden::controller::ctl
