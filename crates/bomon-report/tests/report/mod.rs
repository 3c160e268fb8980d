mod disclosure;
