package io.dalang.runtime.admin;

import io.dalang.runtime.auth.Principal;
import org.apache.pekko.http.javadsl.server.Route;

/** One feature's routes under {@code /admin/v1}, for an authenticated caller. */
interface AdminRoute {
  Route route(Principal p);
}
