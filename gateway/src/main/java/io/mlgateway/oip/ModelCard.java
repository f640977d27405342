package io.mlgateway.oip;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * A model served, as {@code GET /v1/models} lists it: what a client sends ({@code inputs}), what the model itself
 * reads ({@code features}), whether it explains its predictions, and for per-user models the shared base and how
 * many users have a model of their own.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelCard(String name, String platform, List<String> versions, List<String> inputs, List<String> features,
        boolean explanations, @JsonProperty("base_model") BaseModel baseModel,
        @JsonProperty("users_with_own_models") Long usersWithOwnModels) {

    public record BaseModel(long version, int trees, @JsonProperty("created_at") OffsetDateTime createdAt) {
    }
}
