package io.mlgateway.retrain;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** Watches actual_rentals and keeps each user's rentals model fresh. No API: actuator only. */
@SpringBootApplication(scanBasePackages = "io.mlgateway.retrain")
@ConfigurationPropertiesScan({"io.mlgateway.retrain", "io.mlgateway.shared.storage"})
public class RetrainerApplication {

    public static void main(String[] args) {
        SpringApplication.run(RetrainerApplication.class, args);
    }
}
