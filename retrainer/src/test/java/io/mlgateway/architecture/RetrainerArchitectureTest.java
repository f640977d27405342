package io.mlgateway.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The retrainer's side of docs/ARCHITECTURE.md: it builds on the shared contracts and platform, which know nothing
 * of it, and its packages are free of cycles.
 */
class RetrainerArchitectureTest {

    static final JavaClasses RETRAINER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(location -> !location.contains("-tests.jar"))
            .importPackages("io.mlgateway");

    @Test
    void theSharedModuleDoesNotKnowTheRetrainer() {
        noClasses().that().resideInAPackage("io.mlgateway.shared..")
                .should().dependOnClassesThat().resideInAPackage("io.mlgateway.retrain..")
                .check(RETRAINER);
    }

    @Test
    void theDriftCheckIsAPureCalculation() {
        noClasses().that().resideInAPackage("io.mlgateway.retrain.drift..")
                .should().dependOnClassesThat().resideInAnyPackage("io.mlgateway.retrain", "io.mlgateway.shared.storage..")
                .because("the drift statistics are computed from figures the monitor hands them")
                .check(RETRAINER);
    }

    @Test
    void packagesAreFreeOfCycles() {
        slices().matching("io.mlgateway.(**)").should().beFreeOfCycles().check(RETRAINER);
    }
}
