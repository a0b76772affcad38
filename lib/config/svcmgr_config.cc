#include "config/svcmgr_config.h"

#include <ini.h>

#include <cstring>

namespace castor {
namespace {

struct IniContext {
  SvcmgrConfig* config;
  std::string file;
  std::string error;
};

int ini_handler(void* user, const char* section, const char* name, const char* value) {
  auto* ctx = static_cast<IniContext*>(user);
  if (std::strcmp(section, "svcmgr") != 0) return 1;  // another daemon's section
  std::string k = name, v = value;
  if (k == "services_dir") ctx->config->services_dir = v;
  else if (k == "socket") ctx->config->socket = v;
  else if (k == "quorumd_socket") ctx->config->quorumd_socket = v;
  else if (k == "ocf_root") ctx->config->ocf_root = v;
  else if (k == "state_dir") ctx->config->state_dir = v;
  else {
    if (ctx->error.empty()) ctx->error = ctx->file + ": unknown key '" + k + "' in [svcmgr]";
    return 0;
  }
  return 1;
}

}  // namespace

Status load_svcmgr_config(const std::string& path, SvcmgrConfig& config) {
  IniContext ctx{&config, path, {}};
  int r = ini_parse(path.c_str(), ini_handler, &ctx);
  if (r < 0) return Error(Code::not_found, "cannot read " + path);
  if (!ctx.error.empty()) return Error(Code::invalid_argument, ctx.error);
  if (r > 0) return Error(Code::invalid_argument, path + ":" + std::to_string(r) + ": syntax error");
  return Status::Ok();
}

}  // namespace castor
