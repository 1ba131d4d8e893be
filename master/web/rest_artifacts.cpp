// GET /api/v2/builds/{id}/artifacts: a build's artifacts, and each one's
// bytes streamed from its file (64 KiB in memory at a time), for users
// allowed to read; one the retention janitor deleted is 410 saying when
// and by which rule. GET /api/v2/retention: the janitor's rules, its last
// round and its next.
#include <fcntl.h>
#include <unistd.h>

#include <memory>

#include "common/transfer_paths.hpp"
#include "master/artifacts/artifact_store.hpp"
#include "master/db/database.hpp"
#include "master/status/rpc_handler.hpp"
#include "master/status/views.hpp"
#include "master/web/rest_common.hpp"

namespace bb::web {

namespace {

// Closes the file when the stream is dropped (finished or cut off).
struct ArtifactFile {
  int fd = -1;
  ~ArtifactFile() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void addArtifactRoutes(Router& r, WebContext& ctx) {
  r.add("GET", "/api/v2/retention", [&ctx](HttpRequest& req, const PathParams&) {
    ctx.requireRead(req);
    return jsonResponse(Json{{"retention", ctx.rpc.retention()}});
  });
  r.add("GET", "/api/v2/builds/{id}/artifacts", [&ctx](HttpRequest& req, const PathParams& p) {
    ctx.requireRead(req);
    const std::int64_t id = pathId(p, "id");
    if (!ctx.db.getBuild(id)) throw HttpError(404, "no build with id " + std::to_string(id));
    return listResponse(req, "artifacts", artifactsView(ctx.db, id));
  });
  r.add("GET", "/api/v2/builds/{id}/artifacts/{name}", [&ctx](HttpRequest& req, const PathParams& p) {
    ctx.requireRead(req);
    const std::int64_t id = pathId(p, "id");
    const std::string& name = p.at("name");
    if (auto bad = checkArtifactName(name)) throw HttpError(400, *bad);
    auto a = ctx.db.getArtifact(id, name);
    if (!a) throw HttpError(404, "build " + std::to_string(id) + " has no artifact " + name);
    if (a->removedAt)
      throw HttpError(410, "artifact " + name + " of build " + std::to_string(id) + " was " +
                               retentionRemovalText(a->removedAt, a->removedBy));
    if (!ctx.artifacts) throw HttpError(404, "this master keeps no artifacts");
    auto file = std::make_shared<ArtifactFile>();
    file->fd = ::open(ctx.artifacts->pathOf(*a).c_str(), O_RDONLY | O_CLOEXEC);
    if (file->fd < 0) throw HttpError(410, "the file of artifact " + name + " is gone");
    HttpResponse res;
    res.contentType = "application/octet-stream";
    const std::string filename = a->kind == "directory" ? name + ".tar.zst" : name;
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
    res.headers.emplace_back("X-Checksum-Sha256", a->sha256);
    res.stream = [file](std::string& out) {
      char buf[64 * 1024];
      const ssize_t n = ::read(file->fd, buf, sizeof buf);
      if (n <= 0) return false;
      out.append(buf, static_cast<std::size_t>(n));
      return true;
    };
    return res;
  });
}

}  // namespace bb::web
