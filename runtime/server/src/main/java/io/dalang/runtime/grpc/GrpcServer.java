package io.dalang.runtime.grpc;

import io.dalang.actors.placement.PlacementActor;
import io.dalang.grpc.v1.AdminPowerApi;
import io.dalang.grpc.v1.AdminPowerApiHandlerFactory;
import io.dalang.grpc.v1.InferencePowerApi;
import io.dalang.grpc.v1.InferencePowerApiHandlerFactory;
import io.dalang.grpc.v1.JobsPowerApi;
import io.dalang.grpc.v1.JobsPowerApiHandlerFactory;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.runs.RunLauncher;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.javadsl.ServerReflection;
import org.apache.pekko.grpc.javadsl.ServiceHandler;
import io.dalang.runtime.tls.EdgeTls;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds Dalang's gRPC services (Inference, Jobs, Admin, and server reflection so generic tools such as
 * grpcurl can list them) on {@code dalang.grpc.host}:{@code dalang.grpc.port}: HTTP/2, in cleartext or, with
 * {@code dalang.http.tls}, over TLS with the HTTP edge's certificate.
 */
public final class GrpcServer {
  private static final Logger log = LoggerFactory.getLogger(GrpcServer.class);

  private GrpcServer() {}

  public static ServerBinding bind(ActorSystem<?> system, String host, int port, Optional<HttpsConnectionContext> tls, Authenticator auth, RunLauncher runs,
      ActorRef<PlacementActor.Command> placement, Duration askTimeout, io.dalang.runtime.jobs.JobService jobs) throws Exception {
    var inference = InferencePowerApiHandlerFactory.partial(new GrpcInferenceService(system, auth, runs, jobs), InferencePowerApi.name, system);
    var admin = AdminPowerApiHandlerFactory.partial(new GrpcAdminService(system, auth, placement, askTimeout), AdminPowerApi.name, system);
    var jobService = JobsPowerApiHandlerFactory.partial(new GrpcJobsService(auth, jobs, runs.settings()), JobsPowerApi.name, system);
    var reflection = ServerReflection.create(List.of(io.dalang.grpc.v1.Inference.description, io.dalang.grpc.v1.Admin.description,
        io.dalang.grpc.v1.Jobs.description), system);
    @SuppressWarnings("unchecked")
    var services = ServiceHandler.concatOrNotFound(inference, admin, jobService, reflection);
    // Services see the caller's address as metadata the binding writes (failed authentications are limited per address).
    org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler =
        r -> services.apply(io.dalang.runtime.http.ClientAddress.stamped(r));
    ServerBinding binding = EdgeTls.secure(Http.get(system).newServerAt(host, port), tls).bind(handler)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
    log.info("listening on {}://{}:{} (dalang.v1.Inference, dalang.v1.Jobs, dalang.v1.Admin, server reflection)", tls.isPresent() ? "grpcs" : "grpc", host, binding.localAddress().getPort());
    return binding;
  }
}
