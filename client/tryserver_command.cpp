#include "client/tryserver_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <iterator>

#include "common/try_job.hpp"

namespace bb::client {

namespace {

const char* kTryserverSynopsis = "--jobdir DIR";
const char* kTryserverDescription =
    "Read a try job on standard input (as 'buildbot try --connect local|ssh' sends it), write it\n"
    "atomically into the job directory DIR (DIR/tmp, then DIR/new) and print its job id.\n"
    "A try_jobdir scheduler watching DIR builds it. Jobs that do not read back are refused.";

po::options_description tryserverOptions() {
  po::options_description desc("Options");
  desc.add_options()("help,h", "show this help")(
      "jobdir", po::value<std::string>()->value_name("DIR"), "the job directory (required)");
  return desc;
}

void writeAll(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw UsageError("buildbot tryserver: cannot write " + path + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string writeJobFile(const std::string& jobdir, const std::string& jobId, const std::string& text) {
  for (const char* sub : {"", "/tmp", "/new"}) {
    const std::string d = jobdir + sub;
    struct stat st {};
    if (::stat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw UsageError("buildbot tryserver: '" + d + "' is not a directory (is --jobdir the try_jobdir scheduler's jobdir?)");
  }
  const std::string name = jobId + ".job";
  const std::string tmp = jobdir + "/tmp/" + name;
  const std::string dest = jobdir + "/new/" + name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw UsageError("buildbot tryserver: cannot create " + tmp + ": " + std::strerror(errno));
  try {
    writeAll(fd, text, tmp);
    if (::fsync(fd) != 0) throw UsageError("buildbot tryserver: cannot sync " + tmp + ": " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  // Never replace a job of the same id (the ids are random; this is a guard).
  struct stat existing {};
  if (::lstat(dest.c_str(), &existing) == 0) {
    ::unlink(tmp.c_str());
    throw UsageError("buildbot tryserver: a job " + dest + " exists already");
  }
  // rename(): the scheduler's inotify watch sees the job arrive whole (IN_MOVED_TO).
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw UsageError("buildbot tryserver: cannot move the job into " + dest + ": " + std::strerror(e));
  }
  return dest;
}

int runTryserver(const std::vector<std::string>& args, const ConnectionFlags&, CliContext& ctx) {
  const po::variables_map vm = parseVerbArgs("tryserver", args, tryserverOptions());
  if (vm.count("help")) {
    printVerbHelp(*ctx.out, "tryserver", kTryserverSynopsis, kTryserverDescription, tryserverOptions());
    return kExitOk;
  }
  if (!vm.count("jobdir")) throw UsageError("buildbot tryserver: --jobdir DIR is required");
  std::string text((std::istreambuf_iterator<char>(*ctx.in)), {});
  TryJob job;
  try {
    job = parseAnyTryJob(text);
  } catch (const TryJobError& e) {
    throw UsageError(std::string("buildbot tryserver: refused a malformed job: ") + e.what());
  }
  writeJobFile(vm["jobdir"].as<std::string>(), job.jobId, text);
  *ctx.out << job.jobId << "\n";
  return kExitOk;
}

}  // namespace bb::client
