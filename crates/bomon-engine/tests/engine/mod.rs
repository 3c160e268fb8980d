mod quarterly;
