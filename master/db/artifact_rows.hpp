#pragma once
// Inside master/db/ only: the columns an ArtifactRecord is read from
// (artifacts a JOIN builds b), shared by artifacts_db.cpp and
// retention_db.cpp.
#include "master/db/records.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

#define BB_ARTIFACT_COLUMNS                                                                    \
  "a.id, a.build_id, b.builder, b.number, a.name, a.kind, a.size, a.sha256, a.mode, a.created_at," \
  " a.removed_at, a.removed_by"

inline ArtifactRecord readArtifactRow(const Statement& s) {
  ArtifactRecord a;
  a.id = s.getInt(0);
  a.buildId = s.getInt(1);
  a.builder = s.getText(2);
  a.number = static_cast<int>(s.getInt(3));
  a.name = s.getText(4);
  a.kind = s.getText(5);
  a.size = s.getInt(6);
  a.sha256 = s.getText(7);
  a.mode = static_cast<int>(s.getInt(8));
  a.createdAt = s.getInt(9);
  a.removedAt = s.getInt(10);
  a.removedBy = s.getText(11);
  return a;
}

}  // namespace bb::db
