// Secrets named by reference (file, environment variable, secrets_dir) are
// read when the config is loaded from its file; every problem is a
// positioned error naming the secret and its reference, never its value.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "config/master_config.hpp"
#include "master/config_kinds.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

namespace fs = std::filesystem;
using test::dump;
using test::expectErrorAt;
using test::findError;
using test::kVerifier;

class SecretsConfig : public ::testing::Test {
 protected:
  SecretsConfig() {
    char tmpl[] = "/tmp/bb-secrets-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    ::unsetenv("BB_TEST_SECRET");
  }
  ~SecretsConfig() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
    ::unsetenv("BB_TEST_SECRET");
  }
  void write(const std::string& name, const std::string& text) {
    fs::create_directories((dir / name).parent_path());
    std::ofstream(dir / name, std::ios::binary) << text;
  }
  // A config that starts with `secrets` (YAML lines) and has a builder
  // whose shell command (on the last line, column 33) is `command`.
  ConfigResult<MasterConfig> load(const std::string& secrets, const std::string& command,
                                  const std::string& stepExtra = "") {
    write("master.yaml", secrets +
                             "slaves:\n"
                             "  - { name: s1, password: \"" + kVerifier + "\" }\n"
                             "builders:\n"
                             "  - name: b1\n"
                             "    slaves: [s1]\n"
                             "    steps: [{ shell: { command: \"" + command + "\"" + stepExtra +
                             " } }]\n");
    return loadMasterConfig((dir / "master.yaml").string(), masterConfigKinds());
  }
  fs::path dir;
};

TEST_F(SecretsConfig, FileEnvAndDirectoryAreReadWithOneTrailingNewlineStripped) {
  write("secrets/token", "file-token-value\n");
  write("secrets.d/api_key", "dir-key-value\r\n");
  write("secrets.d/.hidden", "ignored");
  ::setenv("BB_TEST_SECRET", "env-secret-value", 1);
  auto r = load("secrets:\n"
                "  token: { file: secrets/token }\n"
                "  from_env: { env: BB_TEST_SECRET }\n"
                "secrets_dir: secrets.d\n",
                "deploy %(secret:token)s %(secret:api_key)s %(secret:from_env)s");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const auto& v = r.config->secrets.values;
  EXPECT_EQ(v.size(), 3u);
  EXPECT_EQ(v.at("token"), "file-token-value");
  EXPECT_EQ(v.at("api_key"), "dir-key-value");
  EXPECT_EQ(v.at("from_env"), "env-secret-value");
  ASSERT_EQ(r.config->secrets.uses.size(), 3u);
  EXPECT_EQ(r.config->secrets.uses[0].name, "token");
}

TEST_F(SecretsConfig, ParsingTextAloneReadsNothing) {
  auto r = parseMasterConfig("secrets:\n  token: { file: /nonexistent/x }\n", "m.yaml",
                             masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_TRUE(r.config->secrets.values.empty());
  ASSERT_EQ(r.config->secrets.refs.size(), 1u);
  EXPECT_EQ(r.config->secrets.refs[0].ref, "/nonexistent/x");
}

TEST_F(SecretsConfig, MissingFileUnsetVariableAndMissingFolderArePositionedErrors) {
  auto r = load("secrets:\n"
                "  token: { file: secrets/none }\n"
                "  from_env: { env: BB_TEST_SECRET }\n"
                "secrets_dir: nothing.d\n",
                "echo %(secret:token)s");
  EXPECT_FALSE(r.config.has_value());
  expectErrorAt(r.errors, "secret 'token': cannot read file", 2, 10);
  const ConfigError* file = findError(r.errors, "secret 'token'");
  EXPECT_NE(file->message.find((dir / "secrets/none").string()), std::string::npos)
      << file->message;
  EXPECT_NE(file->message.find("No such file"), std::string::npos) << file->message;
  expectErrorAt(r.errors, "secret 'from_env': environment variable BB_TEST_SECRET is not set", 3,
                13);
  expectErrorAt(r.errors, "secrets_dir: cannot read folder", 4, 14);
  // The use of 'token' is not reported again as unknown.
  EXPECT_EQ(findError(r.errors, "unknown secret"), nullptr) << dump(r.errors);
}

TEST_F(SecretsConfig, UnknownSecretInACommandIsAnErrorAtTheCommand) {
  write("secrets/token", "file-token-value");
  auto r = load("secrets:\n  token: { file: secrets/token }\n", "echo %(secret:tokn)s");
  EXPECT_FALSE(r.config.has_value());
  expectErrorAt(r.errors, "unknown secret 'tokn'; defined secrets: token", 8, 33);
  const ConfigError* e = findError(r.errors, "unknown secret");
  EXPECT_NE(e->message.find("builder 'b1'"), std::string::npos) << e->message;
  EXPECT_EQ(dump(r.errors).find("file-token-value"), std::string::npos);
}

TEST_F(SecretsConfig, ATooShortSecretIsRefusedWithoutShowingIt) {
  ::setenv("BB_TEST_SECRET", "xyz", 1);
  auto r = load("secrets:\n  pin: { env: BB_TEST_SECRET }\n", "echo %(secret:pin)s");
  EXPECT_FALSE(r.config.has_value());
  expectErrorAt(r.errors, "secret 'pin' (environment variable BB_TEST_SECRET) is 3 byte(s) long",
                2, 8);
  EXPECT_EQ(dump(r.errors).find("xyz"), std::string::npos) << dump(r.errors);
}

TEST_F(SecretsConfig, ANameDefinedTwiceIsAnError) {
  write("secrets/token", "file-token-value");
  write("secrets.d/token", "other-value");
  auto r = load("secrets:\n  token: { file: secrets/token }\nsecrets_dir: secrets.d\n", "true");
  EXPECT_FALSE(r.config.has_value());
  ASSERT_NE(findError(r.errors, "is also defined by file"), nullptr) << dump(r.errors);
}

TEST_F(SecretsConfig, BadEntriesAreReportedWhereWritten) {
  auto r = load("secrets:\n"
                "  both: { file: a, env: B }\n"
                "  none: { }\n"
                "  typo: { fil: a }\n"
                "  \"bad/name\": { env: X }\n",
                "true");
  EXPECT_FALSE(r.config.has_value());
  expectErrorAt(r.errors, "give either file or env, not both", 2, 9);
  ASSERT_NE(findError(r.errors, "secret 'none': give exactly one of file: PATH or env"), nullptr)
      << dump(r.errors);
  ASSERT_NE(findError(r.errors, "unknown key 'fil'"), nullptr) << dump(r.errors);
  expectErrorAt(r.errors, "secret name 'bad/name' is not allowed", 5, 3);
}

TEST_F(SecretsConfig, SecretsAreRefusedInFieldsThatAreShownOrStored) {
  write("secrets/token", "file-token-value");
  auto r = load("secrets:\n  token: { file: secrets/token }\n", "true",
                ", workdir: \"w-%(secret:token)s\"");
  EXPECT_FALSE(r.config.has_value());
  ASSERT_NE(findError(r.errors, "workdir: secret 'token' cannot be used here"), nullptr)
      << dump(r.errors);
  auto op = load("secrets:\n  token: { file: secrets/token }\n", "echo %(secret:token:-x)s");
  ASSERT_NE(findError(op.errors, "a secret takes no default"), nullptr) << dump(op.errors);
}

}  // namespace
}  // namespace bb
