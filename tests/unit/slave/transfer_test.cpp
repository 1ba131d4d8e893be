// File transfer commands on the slave (upload, download): bytes within the
// credit window, SHA-256, and every unsafe case refused before anything is
// sent or written: "..", absolute paths, symbolic links out of the
// workdir, fifos, sizes over the cap (a 10 GB sparse file against a 1 MiB
// cap), and crafted tar archives.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/event_loop.hpp"
#include "common/sha256_stream.hpp"
#include "slave/child_reaper.hpp"
#include "slave/command.hpp"
#include "slave/download_command.hpp"
#include "slave_test_util.hpp"

namespace bb {
namespace {

namespace fs = std::filesystem;

class TransferTest : public ::testing::Test {
 protected:
  std::string wd() const { return base.path() + "/b/build"; }
  void write(const std::string& rel, const std::string& content) {
    fs::create_directories(fs::path(wd() + "/" + rel).parent_path());
    std::ofstream(wd() + "/" + rel, std::ios::binary) << content;
  }
  static std::string randomBytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  }
  static std::string sha(const std::string& s) {
    Sha256Stream h;
    h.update(s);
    return h.hexDigest();
  }

  // Runs an upload to its end, granting credit as a master would.
  void upload(const Json& args, std::int64_t window = 64 * 1024) {
    cmd = RemoteCommand::create(ctx, sink, 1, "upload", window, args);
    cmd->start();
    std::size_t seen = 0;
    ASSERT_TRUE(test::runUntil(io, [&] {
      const std::size_t now = sink.bytes;
      if (now > seen) {
        cmd->addCredit(static_cast<std::int64_t>(now - seen));  // "stored"
        seen = now;
      }
      return sink.complete;
    }));
  }
  std::string error() const { return sink.done ? sink.done->value("error", std::string()) : "?"; }

  // Runs a download of `content`, sending it within the granted window.
  void download(const std::string& content, Json args) {
    args["size"] = static_cast<std::int64_t>(content.size());
    if (!args.contains("sha256")) args["sha256"] = sha(content);
    if (!args.contains("max_size")) args["max_size"] = 1 << 20;
    cmd = RemoteCommand::create(ctx, sink, 2, "download", 1 << 20, args);
    cmd->start();
    std::size_t sent = 0;
    std::int64_t used = 0;
    while (!sink.complete) {
      const std::int64_t room = sink.fileCredit - used;
      ASSERT_GT(room, 0) << "no window to send in; header: " << sink.hdr();
      const std::size_t n = std::min<std::size_t>({static_cast<std::size_t>(room), 64 * 1024, content.size() - sent});
      const bool eof = sent + n == content.size();
      cmd->onFileData(std::string_view(content.data() + sent, n), eof);
      sent += n;
      used += static_cast<std::int64_t>(n);
      if (eof) break;
    }
    ASSERT_TRUE(test::runUntil(io, [&] { return sink.complete; }));
  }
  // The files left in the workdir (names), to see nothing partial stays.
  std::vector<std::string> listing() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(wd(), ec); !ec && it != fs::recursive_directory_iterator(); ++it)
      out.push_back(fs::relative(it->path(), wd()).string());
    std::sort(out.begin(), out.end());
    return out;
  }
  // A tar made by Python's tarfile from a small script (crafted members).
  std::string tarFrom(const std::string& script) {
    const std::string out = base.path() + "/crafted.tar";
    const std::string py = base.path() + "/craft.py";
    std::ofstream(py) << "import tarfile, io\nt = tarfile.open('" << out << "', 'w', format=tarfile.GNU_FORMAT)\n"
                      << "def add(name, data=b'', **kw):\n"
                      << "    i = tarfile.TarInfo(name)\n    i.size = len(data)\n"
                      << "    for k, v in kw.items(): setattr(i, k, v)\n"
                      << "    t.addfile(i, io.BytesIO(data))\n"
                      << script << "\nt.close()\n";
    EXPECT_EQ(std::system(("python3 " + py).c_str()), 0);
    return test::readFile(out);
  }

  test::TempDir base;
  boost::asio::io_context io;
  ManualClock clock;
  ChildReaper reaper{io};
  CommandContext ctx{io, clock, reaper, base.path(), std::chrono::seconds(5), currentEnvironment()};
  test::RecordingSink sink;
  std::unique_ptr<RemoteCommand> cmd;
};

TEST_F(TransferTest, UploadFileSendsItsBytesWithinTheWindow) {
  const std::string content = randomBytes(300 * 1024 + 17, 1);
  write("out/app.bin", content);
  upload({{"workdir", "b/build"}, {"src", "out/app.bin"}, {"what", "file"}, {"max_size", 1 << 20}}, 50000);
  ASSERT_TRUE(sink.done) << sink.hdr();
  EXPECT_EQ(error(), "");
  EXPECT_EQ(sink.done->value("rc", -1), 0);
  EXPECT_EQ(sink.streams[3], content);
  EXPECT_LE(sink.maxChunk, 50000u);
  EXPECT_EQ((*sink.done)["props"].value("sha256", std::string()), sha(content));
  EXPECT_EQ((*sink.done)["props"].value("size", std::int64_t{0}), static_cast<std::int64_t>(content.size()));
}

TEST_F(TransferTest, UploadRefusesDotDotAndAbsolutePaths) {
  write("x", "x");
  upload({{"workdir", "b/build"}, {"src", "../build/x"}, {"what", "file"}, {"max_size", 100}});
  EXPECT_NE(error().find("'..'"), std::string::npos) << error();
  EXPECT_EQ(sink.streams[3], "");
  sink = test::RecordingSink();
  upload({{"workdir", "b/build"}, {"src", "/etc/passwd"}, {"what", "file"}, {"max_size", 100}});
  EXPECT_NE(error().find("absolute"), std::string::npos) << error();
  EXPECT_EQ(sink.streams[3], "");
}

TEST_F(TransferTest, UploadRefusesASymlinkOutOfTheWorkdir) {
  std::ofstream(base.path() + "/secret") << "secret";
  fs::create_directories(wd());
  fs::create_symlink(base.path() + "/secret", wd() + "/link");
  upload({{"workdir", "b/build"}, {"src", "link"}, {"what", "file"}, {"max_size", 100}});
  EXPECT_NE(error().find("leads out of the workdir"), std::string::npos) << error();
  EXPECT_EQ(sink.streams[3], "");
  // A directory whose link leaves it is refused too.
  sink = test::RecordingSink();
  fs::create_directories(wd() + "/dir");
  fs::create_symlink("../../../secret", wd() + "/dir/up");
  upload({{"workdir", "b/build"}, {"src", "dir"}, {"what", "directory"}, {"max_size", 100}});
  EXPECT_NE(error().find("leaves the directory"), std::string::npos) << error();
  EXPECT_EQ(sink.streams[3], "");
}

TEST_F(TransferTest, UploadRefusesAFifo) {
  fs::create_directories(wd() + "/dir");
  ASSERT_EQ(::mkfifo((wd() + "/dir/pipe").c_str(), 0600), 0);
  upload({{"workdir", "b/build"}, {"src", "dir/pipe"}, {"what", "file"}, {"max_size", 100}});
  EXPECT_NE(error().find("not a regular file"), std::string::npos) << error();
  sink = test::RecordingSink();
  upload({{"workdir", "b/build"}, {"src", "dir"}, {"what", "directory"}, {"max_size", 100}});
  EXPECT_NE(error().find("device, fifo or socket"), std::string::npos) << error();
  EXPECT_EQ(sink.streams[3], "");
}

TEST_F(TransferTest, UploadRefusesA10GbSparseFileOverA1MbCap) {
  fs::create_directories(wd() + "/dir");
  ASSERT_EQ(std::system(("truncate -s 10G " + wd() + "/dir/huge").c_str()), 0);
  upload({{"workdir", "b/build"}, {"src", "dir/huge"}, {"what", "file"}, {"max_size", 1 << 20}});
  EXPECT_NE(error().find("over the cap of 1048576 bytes"), std::string::npos) << error();
  EXPECT_EQ(sink.streams[3], "");
  sink = test::RecordingSink();
  upload({{"workdir", "b/build"}, {"src", "dir"}, {"what", "directory"}, {"max_size", 1 << 20}});
  EXPECT_NE(error().find("over the cap"), std::string::npos) << error();
  EXPECT_EQ(sink.streams[3], "");
}

TEST_F(TransferTest, DirectoryRoundTripsThroughUploadAndDownload) {
  write("tree/a.txt", "alpha\n");
  write("tree/sub/b.bin", randomBytes(200 * 1024, 2));
  write("tree/sub/deeper/c", "");
  fs::create_symlink("sub/b.bin", wd() + "/tree/link");
  upload({{"workdir", "b/build"}, {"src", "tree"}, {"what", "directory"}, {"max_size", 1 << 20}});
  ASSERT_EQ(error(), "");
  const std::string archive = sink.streams[3];
  EXPECT_EQ((*sink.done)["props"].value("files", 0), 3);
  sink = test::RecordingSink();
  download(archive, {{"workdir", "b/build"}, {"dest", "copy"}, {"what", "directory"}});
  ASSERT_EQ(error(), "") << sink.hdr();
  EXPECT_EQ(test::readFile(wd() + "/copy/a.txt"), "alpha\n");
  EXPECT_EQ(test::readFile(wd() + "/copy/sub/b.bin"), test::readFile(wd() + "/tree/sub/b.bin"));
  EXPECT_TRUE(fs::exists(wd() + "/copy/sub/deeper/c"));
  EXPECT_EQ(fs::read_symlink(wd() + "/copy/link").string(), "sub/b.bin");
  for (const auto& f : listing()) EXPECT_EQ(f.find("bbpart"), std::string::npos) << f;
}

TEST_F(TransferTest, DownloadFileLandsWithItsModeAndNothingElse) {
  const std::string content = randomBytes(700 * 1024, 3);
  download(content, {{"workdir", "b/build"}, {"dest", "bin/tool"}, {"what", "file"}, {"mode", 0755}});
  ASSERT_EQ(error(), "") << sink.hdr();
  EXPECT_EQ(test::readFile(wd() + "/bin/tool"), content);
  EXPECT_EQ(fs::status(wd() + "/bin/tool").permissions() & fs::perms::all, static_cast<fs::perms>(0755));
  EXPECT_EQ(listing(), (std::vector<std::string>{"bin", "bin/tool"}));
}

TEST_F(TransferTest, DownloadWithTheWrongChecksumLeavesNoFile) {
  download("some bytes", {{"workdir", "b/build"}, {"dest", "f"}, {"what", "file"}, {"sha256", std::string(64, '0')}});
  EXPECT_NE(error().find("damaged"), std::string::npos) << error();
  EXPECT_EQ(listing(), std::vector<std::string>{});
}

TEST_F(TransferTest, DownloadCutOffMidwayLeavesNoPartialFile) {
  const std::string content = randomBytes(300 * 1024, 4);
  cmd = RemoteCommand::create(ctx, sink, 3, "download", 1 << 20,
                              {{"workdir", "b/build"}, {"dest", "f"}, {"what", "file"},
                               {"size", content.size()}, {"sha256", sha(content)}, {"max_size", 1 << 20}});
  cmd->start();
  cmd->onFileData(std::string_view(content.data(), 64 * 1024), false);
  EXPECT_EQ(listing().size(), 1u);  // the temporary file
  cmd->detach("connection to master lost");
  cmd.reset();
  EXPECT_EQ(listing(), std::vector<std::string>{});
}

TEST_F(TransferTest, DownloadRefusesUnsafeDestinationsBeforeWriting) {
  download("x", {{"workdir", "b/build"}, {"dest", "../x"}, {"what", "file"}});
  EXPECT_NE(error().find("'..'"), std::string::npos) << error();
  sink = test::RecordingSink();
  download("x", {{"workdir", "b/build"}, {"dest", "/tmp/x"}, {"what", "file"}});
  EXPECT_NE(error().find("absolute"), std::string::npos) << error();
  sink = test::RecordingSink();
  fs::create_directories(wd());
  fs::create_symlink(base.path(), wd() + "/out");
  download("x", {{"workdir", "b/build"}, {"dest", "out/x"}, {"what", "file"}});
  EXPECT_NE(error().find("leads out of the workdir"), std::string::npos) << error();
  EXPECT_FALSE(fs::exists(base.path() + "/x"));
  sink = test::RecordingSink();
  download(std::string(2000, 'x'), {{"workdir", "b/build"}, {"dest", "big"}, {"what", "file"}, {"max_size", 1000}});
  EXPECT_NE(error().find("over the cap of 1000 bytes"), std::string::npos) << error();
  EXPECT_FALSE(fs::exists(wd() + "/big"));
}

// Each crafted archive is refused, naming the member, and nothing of it
// (not even its harmless members) is extracted.
TEST_F(TransferTest, CraftedArchivesAreRefusedBeforeExtraction) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"add('ok.txt', b'fine')\nadd('../escape.txt', b'evil')", "'..'"},
      {"add('ok.txt', b'fine')\nadd('/tmp/abs.txt', b'evil')", "absolute"},
      {"add('l', type=tarfile.SYMTYPE, linkname='" + base.path() + "')\nadd('l/through.txt', b'evil')",
       "absolute path"},
      {"add('l', type=tarfile.SYMTYPE, linkname='sub')\nadd('l/through.txt', b'evil')", "under the symbolic link"},
      {"add('up', type=tarfile.SYMTYPE, linkname='../../..')", "points out of the destination"},
      {"add('dev', type=tarfile.CHRTYPE, devmajor=1, devminor=3)", "device"},
      {"add('hl', type=tarfile.LNKTYPE, linkname='ok.txt')", "hard link"},
      // A 10 GB member: its header alone is refused (no data follows it).
      {"i = tarfile.TarInfo('huge')\ni.size = 10 << 30\nt.fileobj.write(i.tobuf(tarfile.GNU_FORMAT))\nt.offset += 512",
       "over the cap"},
  };
  for (const auto& [script, why] : cases) {
    SCOPED_TRACE(script);
    const std::string tar = tarFrom(script);
    ASSERT_FALSE(tar.empty());
    sink = test::RecordingSink();
    download(tar, {{"workdir", "b/build"}, {"dest", "out"}, {"what", "directory"}});
    EXPECT_NE(error().find(why), std::string::npos) << error();
    EXPECT_NE(error().find("nothing extracted"), std::string::npos) << error();
    EXPECT_EQ(listing(), std::vector<std::string>{});
    EXPECT_FALSE(fs::exists(base.path() + "/b/escape.txt"));
    EXPECT_FALSE(fs::exists("/tmp/abs.txt"));
  }
}

}  // namespace
}  // namespace bb
