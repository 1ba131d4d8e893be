#pragma once
// Which changes a scheduler looks at (ChangeFilter: branch, repository,
// project, category) and which of those are important (file globs).
#include <string>
#include <string_view>
#include <vector>

#include "config/master_config.hpp"
#include "master/db/records.hpp"

namespace bb {

// Glob over '/'-separated paths: `*` and `?` stay within one segment,
// `**` spans any number of segments (including none).
bool globMatch(std::string_view pattern, std::string_view path);

// Important if any file is included and not excluded. With no include
// globs every file is included; a change with no files is important.
bool isImportant(const FileFilter& f, const std::vector<std::string>& files);

// Whether `change` passes every part of `filter` (branch exact, branch
// patterns, repository, project, category; an empty part accepts all).
// When it does not, `whyNot` names the first part that failed, e.g.
// "project 'web' does not match 'app'" or "branch 'dev' matches none of
// release/*, main".
bool matches(const ChangeFilter& filter, const db::ChangeRecord& change, std::string& whyNot);

}  // namespace bb
