// minictr-init's join mode (join.cc): `minictr exec`'s process joining a running container.
#pragma once

namespace minictr {

// `minictr-init join REQUEST_FD REPORT_FD ERROR_FD RELEASE_FD PIDFD ROOT_FD CONSOLE_FD`: exits when done; returns
// (125) only when the arguments are not minictr's.
int RunJoin(int argc, char** argv);

}  // namespace minictr
